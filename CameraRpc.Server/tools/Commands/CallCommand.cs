using System.Diagnostics.CodeAnalysis;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Cli;

namespace CameraRpc.Server.Tools.Commands;

/// <summary>
/// <c>call METHOD [PARAMS_JSON] [--url URL] [--notify]</c>: sends one request (or notification)
/// and prints the answer. Exit 0 for a result, 1 for an error answer or a bad argument,
/// 2 when there is no answer (contract §1): the server cannot be reached, or the connection broke
/// or stayed silent before the answer came; always with one line on stderr saying why.
/// With <c>CAMERARPC_AUTH_TOKEN</c> set it sends that token (<see cref="BearerToken"/>); a 401 is exit 2 too.
/// </summary>
internal static class CallCommand
{
    /// <summary>The usage line printed with an argument error.</summary>
    public const string Usage = "usage: CameraRpc.Server call METHOD [PARAMS_JSON] [--url URL] [--notify]";

    /// <summary>Longest wait for the connection: a server that never accepts must not hang the operator's shell.</summary>
    internal static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait for the answer once connected; a call that hangs must not hang the shell forever either.</summary>
    private static readonly TimeSpan s_answerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What the command line asked for.</summary>
    internal sealed record Options(string Method, string? ParamsJson, Uri Url, bool Notify);

    /// <summary>The command as the executable runs it: the token comes from <see cref="BearerToken.EnvironmentVariable"/>.</summary>
    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        RunAsync(args, Environment.GetEnvironmentVariable(BearerToken.EnvironmentVariable), stdout, stderr, ConnectTimeout, cancellationToken);

    /// <summary>
    /// The command with the value of <see cref="BearerToken.EnvironmentVariable"/> given (null: unset), and another
    /// connect timeout, so tests of a server that never accepts need not wait 10 s.
    /// </summary>
    internal static async Task<int> RunAsync(
        IReadOnlyList<string> args, string? authTokenVariable, TextWriter stdout, TextWriter stderr, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        if (!TryParseOptions(args, out Options? options, out string? error))
        {
            await stderr.WriteLineAsync($"call: {error}").ConfigureAwait(false);
            await stderr.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        if (!BearerToken.TryParse(authTokenVariable, out string? authToken, out error))
        {
            await stderr.WriteLineAsync($"call: {error}").ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        try
        {
            await using RpcClient client = await RpcClient.ConnectAsync(options.Url, authToken, connectTimeout, cancellationToken).ConfigureAwait(false);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_answerTimeout);
            try
            {
                if (options.Notify)
                {
                    await client.NotifyAsync(options.Method, options.ParamsJson, timeout.Token).ConfigureAwait(false);
                    return ExitCodes.Success;
                }

                RpcAnswer answer = await client.CallAsync(options.Method, options.ParamsJson, timeout.Token).ConfigureAwait(false);

                // Indented for a person at a terminal, compact (one line) for a pipe or a script.
                bool indented = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
                await stdout.WriteLineAsync(RpcAnswer.Format(answer.Root, indented)).ConfigureAwait(false);
                return answer.IsResult && !answer.IsError ? ExitCodes.Success : ExitCodes.ErrorAnswer;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                await stderr.WriteLineAsync($"no answer from {options.Url} within {s_answerTimeout.TotalSeconds:0} s").ConfigureAwait(false);
                return ExitCodes.CannotConnect;
            }
        }
        catch (RpcConnectionException exception)
        {
            // Refused, unreachable, not connected in time, upgrade refused (401 included; over HTTP the 401
            // comes with the POST), or the connection broke before the answer.
            await stderr.WriteLineAsync(exception.Message).ConfigureAwait(false);
            return ExitCodes.CannotConnect;
        }
    }

    /// <summary>Reads the command line; the error names what is wrong.</summary>
    internal static bool TryParseOptions(IReadOnlyList<string> args, [NotNullWhen(true)] out Options? options, [NotNullWhen(false)] out string? error)
    {
        options = null;
        if (!CommandArguments.TryParse(args, ["--url"], ["--notify"], out CommandArguments? parsed, out error))
        {
            return false;
        }

        if (!parsed.TryGetNameAndParams("METHOD", out string? method, out string? paramsJson, out error)
            || !parsed.TryGetUrl(["ws", "wss", "http", "https"], out Uri? url, out error))
        {
            return false;
        }

        options = new Options(method, paramsJson, url, parsed.HasFlag("--notify"));
        return true;
    }
}
