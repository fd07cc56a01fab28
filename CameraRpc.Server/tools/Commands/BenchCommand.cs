using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Cli;

namespace CameraRpc.Server.Tools.Commands;

/// <summary>
/// <c>bench [--url URL] [--connections N] [--duration S] [--warmup S] [--pipeline D] [--method M]
/// [--params JSON] [--json] [--server-pid PID] [--compression]</c>: closed-loop load against a live server (ws:// only)
/// and its report. Every request sent while measuring ends as answered (a result), failed (an error
/// answer or a wrong result) or lost (no answer), so sent = answered + failed + lost.
/// Exit 0 only when every connection opened and nothing was lost, failed or mismatched;
/// 2 at once when no connection could be opened (a 401 included: the token in <c>CAMERARPC_AUTH_TOKEN</c>,
/// see <see cref="BearerToken"/>, is missing or wrong).
/// With <c>--subscribers N</c> it is the fan-out benchmark instead (<c>BenchCommand.FanOut.cs</c>).
/// </summary>
internal static partial class BenchCommand
{
    /// <summary>The usage line printed with an argument error.</summary>
    public const string Usage =
        "usage: CameraRpc.Server bench [--url URL] [--connections N] [--duration S] [--warmup S] [--pipeline D] [--method M] [--params JSON] [--json] [--server-pid PID] [--compression]\n"
        + "       CameraRpc.Server bench --subscribers N [--url URL] [--events E] [--rate R] [--size B] [--stalled K] [--json] [--server-pid PID]";

    // The defaults --help and the README promise (Usage.cs prints these constants).

    /// <summary>Default N of <c>--connections</c>.</summary>
    public const int DefaultConnections = 10;

    /// <summary>Default D of <c>--pipeline</c>.</summary>
    public const int DefaultPipeline = 1;

    /// <summary>Default seconds of <c>--duration</c> (measured).</summary>
    public const int DefaultDurationSeconds = 10;

    /// <summary>Default seconds of <c>--warmup</c> (run before measuring, not recorded).</summary>
    public const int DefaultWarmupSeconds = 2;

    /// <summary>The command as the executable runs it: the token comes from <see cref="BearerToken.EnvironmentVariable"/>.</summary>
    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        RunAsync(args, Environment.GetEnvironmentVariable(BearerToken.EnvironmentVariable), stdout, stderr, cancellationToken);

    /// <summary>The command with the value of <see cref="BearerToken.EnvironmentVariable"/> given (null: unset).</summary>
    internal static async Task<int> RunAsync(
        IReadOnlyList<string> args, string? authTokenVariable, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (IsFanOut(args))
        {
            return await RunFanOutAsync(args, authTokenVariable, stdout, stderr, cancellationToken).ConfigureAwait(false);
        }

        if (!TryParseOptions(args, out LoadOptions? options, out bool json, out string? error))
        {
            await stderr.WriteLineAsync($"bench: {error}").ConfigureAwait(false);
            await stderr.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        if (!BearerToken.TryParse(authTokenVariable, out string? authToken, out error))
        {
            await stderr.WriteLineAsync($"bench: {error}").ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        options = options with { AuthToken = authToken };

        // The \r progress line only makes sense on a terminal; piped or redirected output stays clean.
        bool interactive = !json && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        if (interactive)
        {
            options = options with { Progress = stdout };
        }

        InlineSocketCompletions();

        LoadResult result;
        try
        {
            result = await new LoadGenerator(options).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("bench: cancelled").ConfigureAwait(false);
            return ExitCodes.BenchFailed;
        }

        if (result.ConnectionsOpened == 0)
        {
            await stderr.WriteLineAsync(result.FirstConnectError ?? $"cannot connect to {options.Url}").ConfigureAwait(false);
            if (!json)
            {
                return ExitCodes.CannotConnect;
            }
        }

        await stdout.WriteLineAsync(json ? FormatJson(result) : FormatText(result)).ConfigureAwait(false);
        if (result.ConnectionsOpened == 0)
        {
            return ExitCodes.CannotConnect;
        }

        return result.IsClean ? ExitCodes.Success : ExitCodes.BenchFailed;
    }

    /// <summary>
    /// Runs socket continuations on the epoll thread instead of hopping to the thread pool per read:
    /// each connection's loop does only short synchronous work per read, and the hop cost more CPU
    /// than the load itself (measured: 93% -> 42% of a core at 100x16 against the node peer).
    /// The runtime reads this variable when its socket engine starts, i.e. at the first socket,
    /// which in a bench process comes after this call; an operator's own setting wins.
    /// </summary>
    private static void InlineSocketCompletions()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
        {
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        }
    }

    /// <summary>Reads the command line; the error names the option that is wrong.</summary>
    internal static bool TryParseOptions(
        IReadOnlyList<string> args,
        [NotNullWhen(true)] out LoadOptions? options,
        out bool json,
        [NotNullWhen(false)] out string? error)
    {
        options = null;
        json = false;
        if (!CommandArguments.TryParse(
                args,
                [.. s_loadValueOptions, .. s_fanOutOnlyOptions, "--url", "--server-pid"],
                ["--json", "--compression"],
                out CommandArguments? parsed,
                out error))
        {
            return false;
        }

        if (FirstGiven(parsed, s_fanOutOnlyOptions) is string fanOutOption)
        {
            error = $"{fanOutOption} needs --subscribers (it is an option of the fan-out run)";
            return false;
        }

        if (parsed.Positionals.Count > 0)
        {
            error = $"unexpected argument '{parsed.Positionals[0]}'";
            return false;
        }

        if (!parsed.TryGetUrl(["ws"], out Uri? url, out error)
            || !parsed.TryGetInt("--connections", DefaultConnections, 1, 100_000, out int connections, out error)
            || !parsed.TryGetInt("--pipeline", DefaultPipeline, 1, 100_000, out int pipeline, out error)
            || !parsed.TryGetSeconds("--duration", DefaultDurationSeconds, 0.1, 86_400, out TimeSpan duration, out error)
            || !parsed.TryGetSeconds("--warmup", DefaultWarmupSeconds, 0, 86_400, out TimeSpan warmup, out error)
            || !parsed.TryGetInt("--server-pid", 0, 1, int.MaxValue, out int serverPid, out error))
        {
            return false;
        }

        string method = parsed.GetValue("--method") ?? "ping";
        if (method.Length == 0)
        {
            error = "--method must not be empty";
            return false;
        }

        string? paramsJson = null;
        if (parsed.GetValue("--params") is string rawParams
            && !CommandArguments.TryValidateParams(rawParams, out paramsJson, out string? paramsError))
        {
            error = "--params: " + paramsError;
            return false;
        }

        json = parsed.HasFlag("--json");
        options = new LoadOptions(url, connections, pipeline, duration, warmup, method, paramsJson, serverPid == 0 ? null : serverPid)
        {
            Compression = parsed.HasFlag("--compression"),
        };
        return true;
    }

    /// <summary>The human report, several lines.</summary>
    internal static string FormatText(LoadResult r)
    {
        LoadOptions o = r.Options;
        var text = new System.Text.StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"bench: {o.Method} -> {o.Url}, {o.Connections:N0} connections x {o.Pipeline} in flight, {r.Measured.TotalSeconds:0.00} s measured after {o.Warmup.TotalSeconds:0.0} s warm-up");
        if (o.Compression)
        {
            text.AppendLine(c, $"  compression: permessage-deflate offered (ClientWebSocket), accepted on {r.ConnectionsCompressed:N0} of {r.ConnectionsOpened:N0} connections");
        }

        text.AppendLine(c, $"  connections: {r.ConnectionsOpened:N0} opened, {r.ConnectionsFailed:N0} failed, {r.ConnectionsDropped:N0} dropped; connect phase {r.ConnectPhase.TotalSeconds:0.00} s, per connect p50 {Ms(r.ConnectLatency.GetValueAtPercentile(50))} ms, p99 {Ms(r.ConnectLatency.GetValueAtPercentile(99))} ms, max {Ms(r.ConnectLatency.Max)} ms");
        text.AppendLine(c, $"  requests: {r.Sent:N0} sent = {r.Answered:N0} answered + {r.Failed:N0} failed + {r.Lost:N0} lost; {r.Mismatched:N0} mismatched answers");
        text.AppendLine(c, $"  throughput: {r.RequestsPerSecond:N0} req/s (answered + failed)");
        LatencyHistogram l = r.Latency;
        text.AppendLine(c, $"  latency ms: p50 {Ms(l.GetValueAtPercentile(50))}  p90 {Ms(l.GetValueAtPercentile(90))}  p99 {Ms(l.GetValueAtPercentile(99))}  p99.9 {Ms(l.GetValueAtPercentile(99.9))}  max {Ms(l.Max)}  (mean {Ms((long)l.Mean)})");
        double benchPercent = r.Measured > TimeSpan.Zero ? 100 * r.BenchCpuSeconds / r.Measured.TotalSeconds : 0;
        string server = r.ServerCpuSeconds is double cpu
            ? string.Create(c, $"server {cpu:0.00} s (pid {r.ServerPid}, {100 * cpu / r.Measured.TotalSeconds:0}% of a core) = {r.RequestsPerServerCoreSecond ?? 0:N0} req per server-core-second")
            : "server unknown (not local, or its process was not found; give --server-pid)";
        text.AppendLine(c, $"  cpu: {server}; bench {r.BenchCpuSeconds:0.00} s ({benchPercent:0}% of a core)");
        AppendOutcome(text, r.FirstConnectError, r.FirstProblem, r.IsClean, "connections failed or dropped, or requests failed, lost or mismatched");
        return text.ToString();
    }

    /// <summary>The last lines of a text report: the first connect error and problem, if any, and OK or FAILED (why).</summary>
    private static void AppendOutcome(System.Text.StringBuilder text, string? firstConnectError, string? firstProblem, bool clean, string failedWhen)
    {
        if (firstConnectError is not null)
        {
            text.Append("  first connect error: ").AppendLine(firstConnectError);
        }

        if (firstProblem is not null)
        {
            text.Append("  first problem: ").AppendLine(firstProblem);
        }

        text.Append(clean ? "  result: OK" : $"  result: FAILED ({failedWhen})");
    }

    /// <summary>
    /// One JSON object with every figure (times in seconds or milliseconds as the names say);
    /// <c>sent</c> = <c>answered</c> + <c>failed</c> + <c>lost</c>, as in the text report.
    /// </summary>
    internal static string FormatJson(LoadResult r)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            LoadOptions o = r.Options;
            w.WriteStartObject();
            w.WriteString("url"u8, o.Url.ToString());
            w.WriteString("method"u8, o.Method);
            if (o.ParamsJson is not null)
            {
                w.WritePropertyName("params"u8);
                w.WriteRawValue(o.ParamsJson);
            }

            w.WriteNumber("connections"u8, o.Connections);
            w.WriteNumber("pipeline"u8, o.Pipeline);
            w.WriteNumber("warmupSeconds"u8, o.Warmup.TotalSeconds);
            w.WriteNumber("durationSeconds"u8, r.Measured.TotalSeconds);
            w.WriteNumber("connectionsOpened"u8, r.ConnectionsOpened);
            w.WriteNumber("connectionsFailed"u8, r.ConnectionsFailed);
            w.WriteNumber("connectionsDropped"u8, r.ConnectionsDropped);
            w.WriteBoolean("compressionOffered"u8, o.Compression);
            w.WriteNumber("connectionsCompressed"u8, r.ConnectionsCompressed);
            w.WriteNumber("connectPhaseSeconds"u8, Math.Round(r.ConnectPhase.TotalSeconds, 4));
            WriteLatency(w, "connectMs"u8, r.ConnectLatency);
            w.WriteNumber("sent"u8, r.Sent);
            w.WriteNumber("answered"u8, r.Answered);
            w.WriteNumber("failed"u8, r.Failed);
            w.WriteNumber("lost"u8, r.Lost);
            w.WriteNumber("mismatched"u8, r.Mismatched);
            w.WriteNumber("requestsPerSecond"u8, Math.Round(r.RequestsPerSecond, 1));
            WriteLatency(w, "latencyMs"u8, r.Latency);
            if (r.ServerPid is int pid)
            {
                w.WriteNumber("serverPid"u8, pid);
            }
            else
            {
                w.WriteNull("serverPid"u8);
            }

            WriteNullable(w, "serverCpuSeconds"u8, r.ServerCpuSeconds);
            WriteNullable(w, "requestsPerServerCoreSecond"u8, r.RequestsPerServerCoreSecond is double perCore ? Math.Round(perCore, 1) : null);
            w.WriteNumber("benchCpuSeconds"u8, Math.Round(r.BenchCpuSeconds, 3));
            w.WriteString("firstProblem"u8, r.FirstProblem);
            w.WriteString("firstConnectError"u8, r.FirstConnectError);
            w.WriteBoolean("ok"u8, r.IsClean);
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteLatency(Utf8JsonWriter w, ReadOnlySpan<byte> name, LatencyHistogram h)
    {
        w.WriteStartObject(name);
        w.WriteNumber("count"u8, h.Count);
        w.WriteNumber("min"u8, h.Min / 1000.0);
        w.WriteNumber("mean"u8, Math.Round(h.Mean / 1000.0, 3));
        w.WriteNumber("p50"u8, h.GetValueAtPercentile(50) / 1000.0);
        w.WriteNumber("p90"u8, h.GetValueAtPercentile(90) / 1000.0);
        w.WriteNumber("p99"u8, h.GetValueAtPercentile(99) / 1000.0);
        w.WriteNumber("p99.9"u8, h.GetValueAtPercentile(99.9) / 1000.0);
        w.WriteNumber("max"u8, h.Max / 1000.0);
        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, ReadOnlySpan<byte> name, double? value)
    {
        if (value is double number)
        {
            w.WriteNumber(name, Math.Round(number, 3));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    /// <summary>Microseconds as milliseconds with three significant decimals (µs resolution).</summary>
    private static string Ms(long microseconds) => (microseconds / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);
}
