using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Cli;

namespace CameraRpc.Server.Tools.Commands;

/// <summary>
/// <c>probe [--url URL] [--simple]</c>: the operator's smoke test of a live server, printing one
/// ✅/❌ line per check as the seed's <c>test_client.py</c> does: ping (and its round trip, timed on
/// the connection's second ping, against a 50 ms threshold), an unknown method (-32601) and
/// malformed JSON (-32700).
/// Exit 0 only when every check passed, 1 when one failed, 2 when the server cannot be reached or
/// refuses the client (401: the token in <c>CAMERARPC_AUTH_TOKEN</c>, see <see cref="BearerToken"/>, is missing or wrong).
/// </summary>
/// <remarks>Each check opens its own connection, so a server that drops one connection cannot fail the checks after it.</remarks>
internal static class ProbeCommand
{
    /// <summary>The usage line printed with an argument error.</summary>
    public const string Usage = "usage: CameraRpc.Server probe [--url URL] [--simple]";

    /// <summary>The ping round trip the seed's test client accepts.</summary>
    public const double ThresholdMilliseconds = 50;

    /// <summary>Invalid on purpose: the object is cut off, so any JSON parser rejects it.</summary>
    internal const string MalformedJson = "{\"jsonrpc\": \"2.0\", \"method\": \"ping\", \"id\": 1";

    private static readonly TimeSpan s_checkTimeout = TimeSpan.FromSeconds(5);

    /// <summary>What the command line asked for.</summary>
    internal sealed record Options(Uri Url, bool Simple);

    /// <summary>The command as the executable runs it: the token comes from <see cref="BearerToken.EnvironmentVariable"/>.</summary>
    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        RunAsync(args, Environment.GetEnvironmentVariable(BearerToken.EnvironmentVariable), stdout, stderr, cancellationToken);

    /// <summary>The command with the value of <see cref="BearerToken.EnvironmentVariable"/> given (null: unset).</summary>
    internal static async Task<int> RunAsync(
        IReadOnlyList<string> args, string? authTokenVariable, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (!TryParseOptions(args, out Options? options, out string? error))
        {
            await stderr.WriteLineAsync($"probe: {error}").ConfigureAwait(false);
            await stderr.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        if (!BearerToken.TryParse(authTokenVariable, out string? authToken, out error))
        {
            await stderr.WriteLineAsync($"probe: {error}").ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        // The ✅/❌/🎉 marks must survive a Windows-style or ASCII console default.
        if (ReferenceEquals(stdout, Console.Out))
        {
            Console.OutputEncoding = Encoding.UTF8;
            stdout = Console.Out;
        }

        var checks = new List<bool>();
        try
        {
            await PingAsync(options.Url, authToken, stdout, checks, cancellationToken).ConfigureAwait(false);
            if (!options.Simple)
            {
                await ExpectErrorAsync(
                    options.Url, authToken, stdout, checks, "Invalid method", "error", -32601,
                    async (client, token) => await client.CallAsync("invalid_method", null, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                await ExpectErrorAsync(
                    options.Url, authToken, stdout, checks, "Malformed JSON", "parse error", -32700,
                    (client, token) => client.SendRawAsync(MalformedJson, token), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is CannotConnectException or RpcConnectionException { IsUnauthorized: true })
        {
            // Over HTTP a 401 comes with the first check's POST, not the connect; either way no check can pass.
            await stdout.WriteLineAsync($"❌ {exception.Message}").ConfigureAwait(false);
            return ExitCodes.CannotConnect;
        }

        int failed = checks.Count(passed => !passed);
        await stdout.WriteLineAsync().ConfigureAwait(false);
        await stdout.WriteLineAsync(failed == 0 ? "🎉 All tests passed!" : $"❌ {failed} of {checks.Count} checks failed").ConfigureAwait(false);
        return failed == 0 ? ExitCodes.Success : ExitCodes.ProbeFailed;
    }

    /// <summary>Reads the command line; the error names what is wrong.</summary>
    internal static bool TryParseOptions(IReadOnlyList<string> args, [NotNullWhen(true)] out Options? options, [NotNullWhen(false)] out string? error)
    {
        options = null;
        if (!CommandArguments.TryParse(args, ["--url"], ["--simple"], out CommandArguments? parsed, out error))
        {
            return false;
        }

        if (parsed.Positionals.Count > 0)
        {
            error = $"unexpected argument '{parsed.Positionals[0]}'";
            return false;
        }

        if (!parsed.TryGetUrl(["ws", "wss", "http", "https"], out Uri? url, out error))
        {
            return false;
        }

        options = new Options(url, parsed.HasFlag("--simple"));
        return true;
    }

    private static async Task PingAsync(Uri url, string? authToken, TextWriter stdout, List<bool> checks, CancellationToken cancellationToken)
    {
        await using RpcClient client = await ConnectAsync(url, authToken, cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_checkTimeout);
        long started;
        RpcAnswer answer;
        try
        {
            // An untimed ping first: the first call of a process also pays the tool's own one-time costs
            // (JIT when it is not the AOT build, the socket's async machinery, thread-pool threads), which
            // measured 15-30 ms against 0.5-14 ms for the next call on a loaded 2-core machine. The 50 ms
            // threshold is about the server's round trip, not the probe's start-up.
            _ = await client.CallAsync("ping", null, timeout.Token).ConfigureAwait(false);
            started = Stopwatch.GetTimestamp();
            answer = await client.CallAsync("ping", null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsCheckFailure(exception, cancellationToken))
        {
            await Fail(stdout, checks, $"Ping test failed! {Describe(exception)}").ConfigureAwait(false);
            return;
        }

        double milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        string time = milliseconds.ToString("0.00", CultureInfo.InvariantCulture);
        if (answer.IsResult && answer.Result.ValueKind == JsonValueKind.String && answer.Result.ValueEquals("pong"u8))
        {
            await Pass(stdout, checks, $"Ping test passed! Response: 'pong' in {time} ms").ConfigureAwait(false);
        }
        else
        {
            await Fail(stdout, checks, $"Ping test failed! Expected result 'pong', got: {RpcAnswer.Format(answer.Root, indented: false)}").ConfigureAwait(false);
        }

        if (milliseconds <= ThresholdMilliseconds)
        {
            await Pass(stdout, checks, $"Response time ({time} ms) is within {ThresholdMilliseconds:0}ms threshold").ConfigureAwait(false);
        }
        else
        {
            await Fail(stdout, checks, $"Response time ({time} ms) exceeds {ThresholdMilliseconds:0}ms threshold").ConfigureAwait(false);
        }
    }

    private static async Task ExpectErrorAsync(
        Uri url,
        string? authToken,
        TextWriter stdout,
        List<bool> checks,
        string name,
        string errorKind,
        int expectedCode,
        Func<RpcClient, CancellationToken, Task<RpcAnswer?>> send,
        CancellationToken cancellationToken)
    {
        await using RpcClient client = await ConnectAsync(url, authToken, cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_checkTimeout);
        RpcAnswer? answer;
        try
        {
            answer = await send(client, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsCheckFailure(exception, cancellationToken))
        {
            await Fail(stdout, checks, $"{name} test failed! {Describe(exception)}").ConfigureAwait(false);
            return;
        }

        if (answer is not null && answer.ErrorCode == expectedCode && !answer.IsResult)
        {
            await Pass(stdout, checks, $"{name} test passed! Got expected {errorKind}: {RpcAnswer.Format(answer.Error, indented: false)}").ConfigureAwait(false);
        }
        else
        {
            string got = answer is null ? "no answer" : RpcAnswer.Format(answer.Root, indented: false);
            await Fail(stdout, checks, $"{name} test failed! Expected error {expectedCode}, got: {got}").ConfigureAwait(false);
        }
    }

    private static async Task<RpcClient> ConnectAsync(Uri url, string? authToken, CancellationToken cancellationToken)
    {
        try
        {
            // Over HTTP too the connection is opened here, so an unreachable server is one ❌ line and exit 2 on both transports.
            return await RpcClient.ConnectAsync(url, authToken, s_checkTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcConnectionException exception)
        {
            throw new CannotConnectException(exception.Message);
        }
    }

    /// <summary>A failure of this check alone; a 401 is not one: it ends the probe (exit 2).</summary>
    private static bool IsCheckFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is RpcConnectionException { IsUnauthorized: false }
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static string Describe(Exception exception) =>
        exception is OperationCanceledException ? $"No answer within {s_checkTimeout.TotalSeconds:0} s" : exception.Message;

    private static async Task Pass(TextWriter stdout, List<bool> checks, string line)
    {
        checks.Add(true);
        await stdout.WriteLineAsync($"✅ {line}").ConfigureAwait(false);
    }

    private static async Task Fail(TextWriter stdout, List<bool> checks, string line)
    {
        checks.Add(false);
        await stdout.WriteLineAsync($"❌ {line}").ConfigureAwait(false);
    }

    /// <summary>The server could not be reached at all: the probe stops with exit code 2.</summary>
    private sealed class CannotConnectException(string message) : Exception(message);
}
