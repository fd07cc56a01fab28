using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Cli;

namespace CameraRpc.Server.Tools.Commands;

/// <summary>
/// <c>bench --subscribers N [--events E] [--rate R] [--size B] [--stalled K] [--url URL] [--json] [--server-pid PID]</c>: the
/// fan-out benchmark (<see cref="FanOutBench"/>) against a server run with <c>--bench-topics on</c>.
/// Exit 0 when every subscriber connected and subscribed, none dropped, and the publish was answered (events
/// missed by readers that fell behind are reported, not failures); 2 when no connection could be opened.
/// </summary>
internal static partial class BenchCommand
{
    /// <summary>Default E of <c>--events</c>.</summary>
    public const int DefaultEvents = 10_000;

    /// <summary>Most subscribers, reading and stalled each.</summary>
    public const int MaxSubscribers = 100_000;

    /// <summary>The options of the closed-loop load that a fan-out run does not take.</summary>
    private static readonly string[] s_loadValueOptions = ["--connections", "--duration", "--warmup", "--pipeline", "--method", "--params"];

    /// <summary>The options only a fan-out run takes.</summary>
    private static readonly string[] s_fanOutOnlyOptions = ["--events", "--rate", "--stalled", "--size"];

    /// <summary>True when the command line asks for the fan-out run (it has <c>--subscribers</c>).</summary>
    internal static bool IsFanOut(IReadOnlyList<string> args) =>
        args.TakeWhile(a => a != "--").Any(a => a == "--subscribers" || a.StartsWith("--subscribers=", StringComparison.Ordinal));

    private static async Task<int> RunFanOutAsync(
        IReadOnlyList<string> args, string? authTokenVariable, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (!TryParseFanOutOptions(args, out FanOutOptions? options, out bool json, out string? error))
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

        InlineSocketCompletions();
        FanOutResult result;
        try
        {
            result = await new FanOutBench(options with { AuthToken = authToken }).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("bench: cancelled").ConfigureAwait(false);
            return ExitCodes.BenchFailed;
        }

        if (result.ConnectionsOpened == 0)
        {
            await stderr.WriteLineAsync(result.FirstConnectError ?? $"cannot connect to {options.Url}").ConfigureAwait(false);
        }

        await stdout.WriteLineAsync(json ? FormatFanOutJson(result) : FormatFanOutText(result)).ConfigureAwait(false);
        return result.ConnectionsOpened == 0 ? ExitCodes.CannotConnect
            : result.IsClean ? ExitCodes.Success
            : ExitCodes.BenchFailed;
    }

    /// <summary>Reads a fan-out command line; the error names the option that is wrong.</summary>
    internal static bool TryParseFanOutOptions(
        IReadOnlyList<string> args,
        [NotNullWhen(true)] out FanOutOptions? options,
        out bool json,
        [NotNullWhen(false)] out string? error)
    {
        options = null;
        json = false;
        if (!CommandArguments.TryParse(
                args,
                [.. s_loadValueOptions, .. s_fanOutOnlyOptions, "--subscribers", "--url", "--server-pid"],
                ["--json", "--compression"],
                out CommandArguments? parsed,
                out error))
        {
            return false;
        }

        if (parsed.Positionals.Count > 0)
        {
            error = $"unexpected argument '{parsed.Positionals[0]}'";
            return false;
        }

        if (FirstGiven(parsed, [.. s_loadValueOptions, "--compression"]) is string loadOption)
        {
            error = $"{loadOption} does not apply to a fan-out run (--subscribers)";
            return false;
        }

        if (!parsed.TryGetUrl(["ws"], out Uri? url, out error)
            || !parsed.TryGetInt("--subscribers", 1, 1, MaxSubscribers, out int subscribers, out error)
            || !parsed.TryGetInt("--stalled", 0, 0, MaxSubscribers, out int stalled, out error)
            || !parsed.TryGetInt("--events", DefaultEvents, 0, 100_000_000, out int events, out error)
            || !parsed.TryGetInt("--rate", 0, 0, 10_000_000, out int rate, out error)
            || !parsed.TryGetInt("--size", 0, 0, 65_536, out int size, out error)
            || !parsed.TryGetInt("--server-pid", 0, 1, int.MaxValue, out int serverPid, out error))
        {
            return false;
        }

        json = parsed.HasFlag("--json");
        options = new FanOutOptions(url, subscribers, stalled, events, rate, size, serverPid == 0 ? null : serverPid);
        return true;
    }

    /// <summary>The first of <paramref name="names"/> given on the command line, or null.</summary>
    private static string? FirstGiven(CommandArguments parsed, string[] names) =>
        names.FirstOrDefault(name => parsed.GetValue(name) is not null || parsed.HasFlag(name));

    /// <summary>The human report of a fan-out run, several lines.</summary>
    internal static string FormatFanOutText(FanOutResult r)
    {
        FanOutOptions o = r.Options;
        var text = new System.Text.StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        string rate = o.Rate == 0 ? "back to back" : string.Create(c, $"at {o.Rate:N0}/s");
        string size = o.Size == 0 ? "" : string.Create(c, $", padded with {o.Size:N0} bytes");
        text.AppendLine(c, $"bench: fan-out of {FanOutOptions.Topic} -> {o.Url}, {o.Subscribers:N0} subscribers reading + {o.Stalled:N0} stalled, {o.Events:N0} events {rate}{size}");
        text.AppendLine(c, $"  connections: {r.ConnectionsOpened:N0} opened, {r.ConnectionsFailed:N0} failed; {r.Subscribed:N0} subscribed; {r.Dropped:N0} readers dropped");
        if (r.PublishElapsed is TimeSpan elapsed)
        {
            double perSecond = elapsed > TimeSpan.Zero ? r.Published / elapsed.TotalSeconds : 0;
            text.AppendLine(c, $"  published: {r.Published:N0} events in {elapsed.TotalSeconds:0.00} s ({perSecond:N0}/s) to {r.ServerSubscribers:N0} subscriptions");
            text.AppendLine(c, $"  delivered: {r.Delivered:N0} of {r.Expected:N0} to the readers ({r.Expected - r.Delivered:N0} missed, {r.GapEvents:N0} of them in seq gaps; {r.SubscribersBehind:N0} readers behind)");
            if (r.ServerDropped is long serverDropped)
            {
                text.AppendLine(c, $"  server dropped: {serverDropped:N0} events from full queues (the stalled subscribers' too; with --stalled, 0 means their sockets still held everything)");
            }

            text.AppendLine(c, $"  throughput: {r.DeliveredPerSecond:N0} events/s delivered, first to last delivery ({r.DeliverySpan.TotalSeconds:0.00} s)");
            if (r.Latency is LatencyHistogram l)
            {
                text.AppendLine(c, $"  publish-to-receive ms: p50 {Ms(l.GetValueAtPercentile(50))}  p90 {Ms(l.GetValueAtPercentile(90))}  p99 {Ms(l.GetValueAtPercentile(99))}  max {Ms(l.Max)}  (mean {Ms((long)l.Mean)})");
            }
            else
            {
                text.AppendLine(c, $"  publish-to-receive: not measured ({r.LatencyUnavailable})");
            }
        }
        else if (o.Events == 0)
        {
            text.AppendLine("  published: nothing (--events 0): the subscriptions only");
        }

        if (r.RssConnectedKiB is long connected && r.RssSubscribedKiB is long subscribed)
        {
            text.AppendLine(c, $"  server memory: RSS {Mib(r.RssBeforeKiB ?? 0)} MiB before, {Mib(connected)} MiB with the connections open ({r.KiBPerConnection ?? 0:0.00} KiB each), {Mib(subscribed)} MiB subscribed ({r.KiBPerSubscription ?? 0:0.00} KiB per subscription)");
        }
        else
        {
            text.AppendLine("  server memory: not measured (give --server-pid)");
        }

        if (r.ServerCpuSeconds is double cpu)
        {
            text.AppendLine(c, $"  server cpu: {cpu:0.00} s from the publish to the last delivery (pid {o.ServerPid})");
        }

        AppendOutcome(text, r.FirstConnectError, r.FirstProblem, r.IsClean, "connections failed or dropped, a subscription or the publish refused");
        return text.ToString();
    }

    /// <summary>One JSON object with every figure of a fan-out run; <c>missed</c> = <c>expected</c> − <c>delivered</c>.</summary>
    internal static string FormatFanOutJson(FanOutResult r)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            FanOutOptions o = r.Options;
            w.WriteStartObject();
            w.WriteString("url"u8, o.Url.ToString());
            w.WriteString("topic"u8, FanOutOptions.Topic);
            w.WriteNumber("subscribers"u8, o.Subscribers);
            w.WriteNumber("stalled"u8, o.Stalled);
            w.WriteNumber("events"u8, o.Events);
            w.WriteNumber("rate"u8, o.Rate);
            w.WriteNumber("size"u8, o.Size);
            w.WriteNumber("connectionsOpened"u8, r.ConnectionsOpened);
            w.WriteNumber("connectionsFailed"u8, r.ConnectionsFailed);
            w.WriteNumber("subscribed"u8, r.Subscribed);
            w.WriteNumber("dropped"u8, r.Dropped);
            w.WriteNumber("published"u8, r.Published);
            WriteNullable(w, "publishSeconds"u8, r.PublishElapsed?.TotalSeconds);
            w.WriteNumber("delivered"u8, r.Delivered);
            w.WriteNumber("expected"u8, r.Expected);
            w.WriteNumber("missed"u8, r.Expected - r.Delivered);
            w.WriteNumber("gapEvents"u8, r.GapEvents);
            w.WriteNumber("subscribersBehind"u8, r.SubscribersBehind);
            WriteNullable(w, "serverDropped"u8, r.ServerDropped);
            w.WriteNumber("deliverySeconds"u8, Math.Round(r.DeliverySpan.TotalSeconds, 4));
            w.WriteNumber("deliveredPerSecond"u8, Math.Round(r.DeliveredPerSecond, 1));
            if (r.Latency is LatencyHistogram latency)
            {
                WriteLatency(w, "latencyMs"u8, latency);
            }
            else
            {
                w.WriteNull("latencyMs"u8);
            }

            w.WriteString("latencyUnavailable"u8, r.LatencyUnavailable);
            if (o.ServerPid is int pid)
            {
                w.WriteNumber("serverPid"u8, pid);
            }
            else
            {
                w.WriteNull("serverPid"u8);
            }

            WriteNullable(w, "rssBeforeKiB"u8, r.RssBeforeKiB);
            WriteNullable(w, "rssConnectedKiB"u8, r.RssConnectedKiB);
            WriteNullable(w, "rssSubscribedKiB"u8, r.RssSubscribedKiB);
            WriteNullable(w, "kibPerConnection"u8, r.KiBPerConnection);
            WriteNullable(w, "kibPerSubscription"u8, r.KiBPerSubscription);
            WriteNullable(w, "serverCpuSeconds"u8, r.ServerCpuSeconds);
            w.WriteString("firstProblem"u8, r.FirstProblem);
            w.WriteString("firstConnectError"u8, r.FirstConnectError);
            w.WriteBoolean("ok"u8, r.IsClean);
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Mib(long kib) => (kib / 1024.0).ToString("0.0", CultureInfo.InvariantCulture);
}
