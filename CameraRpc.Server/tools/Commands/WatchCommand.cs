using System.Diagnostics.CodeAnalysis;
using CameraRpc.Server.Tools.Cli;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Watch;

namespace CameraRpc.Server.Tools.Commands;

/// <summary>
/// <c>watch TOPIC [PARAMS_JSON] [--url URL] [--count N]</c>: subscribes to a topic (contract section 6)
/// and prints each event as one JSON line, <c>{"seq":N,"result":VALUE}</c>: the operator's <c>tail -f</c>.
/// Ends on Ctrl+C or after N events (unsubscribing first) and when the server ends the subscription.
/// Exit codes as <c>call</c>'s: 0 for those ends, 1 when the server refuses the subscription or for a
/// bad argument, 2 when it cannot be reached (a 401 included) or the connection breaks.
/// </summary>
/// <remarks>WebSocket only (ws://, wss://): subscriptions need one, HTTP POST gets -32004.</remarks>
internal static class WatchCommand
{
    /// <summary>The usage line printed with an argument error.</summary>
    public const string Usage = "usage: CameraRpc.Server watch TOPIC [PARAMS_JSON] [--url URL] [--count N]";

    /// <summary>What the command line asked for.</summary>
    internal sealed record Options(string Topic, string? ParamsJson, Uri Url, int? Count);

    /// <summary>The command as the executable runs it: the token comes from <see cref="BearerToken.EnvironmentVariable"/>; <paramref name="stop"/> is Ctrl+C.</summary>
    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken stop) =>
        RunAsync(args, Environment.GetEnvironmentVariable(BearerToken.EnvironmentVariable), stdout, stderr, CallCommand.ConnectTimeout, stop);

    /// <summary>The command with the value of <see cref="BearerToken.EnvironmentVariable"/> given (null: unset) and another connect timeout.</summary>
    internal static async Task<int> RunAsync(
        IReadOnlyList<string> args, string? authTokenVariable, TextWriter stdout, TextWriter stderr, TimeSpan connectTimeout, CancellationToken stop)
    {
        if (!TryParseOptions(args, out Options? options, out string? error))
        {
            await stderr.WriteLineAsync($"watch: {error}").ConfigureAwait(false);
            await stderr.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        if (!BearerToken.TryParse(authTokenVariable, out string? authToken, out error))
        {
            await stderr.WriteLineAsync($"watch: {error}").ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        try
        {
            await using RpcClient client = await RpcClient.ConnectAsync(options.Url, authToken, connectTimeout, stop).ConfigureAwait(false);
            var watcher = new SubscriptionWatcher(client, stdout, stderr);
            return await watcher.RunAsync(options.Topic, options.ParamsJson, options.Count, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Ctrl+C while connecting: nothing was subscribed.
            return ExitCodes.Success;
        }
        catch (RpcConnectionException exception)
        {
            await stderr.WriteLineAsync(exception.Message).ConfigureAwait(false);
            return ExitCodes.CannotConnect;
        }
    }

    /// <summary>Reads the command line; the error names what is wrong.</summary>
    internal static bool TryParseOptions(IReadOnlyList<string> args, [NotNullWhen(true)] out Options? options, [NotNullWhen(false)] out string? error)
    {
        options = null;
        if (!CommandArguments.TryParse(args, ["--url", "--count"], [], out CommandArguments? parsed, out error))
        {
            return false;
        }

        if (!parsed.TryGetNameAndParams("TOPIC", out string? topic, out string? paramsJson, out error))
        {
            return false;
        }

        if (!parsed.TryGetUrl(["ws", "wss"], out Uri? url, out error))
        {
            error += " (subscriptions need a WebSocket)";
            return false;
        }

        if (!parsed.TryGetInt("--count", 0, 1, int.MaxValue, out int count, out error))
        {
            return false;
        }

        options = new Options(topic, paramsJson, url, count == 0 ? null : count);
        return true;
    }
}
