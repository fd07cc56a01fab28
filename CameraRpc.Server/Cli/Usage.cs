using System.Text;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Cli;
using CameraRpc.Server.Tools.Commands;
using CameraRpc.Server.Configuration;

namespace CameraRpc.Server.Cli;

/// <summary>The <c>--help</c> text of every command and the <c>--version</c> string.</summary>
/// <remarks>
/// The <c>serve</c> option list is generated from <see cref="OptionDefinitions"/>, so help can never
/// disagree with what the loader accepts.
/// </remarks>
internal static class Usage
{
    /// <summary>
    /// The product version. A constant because reading assembly attributes needs reflection; a test keeps
    /// it equal to the assembly's version (Directory.Build.props).
    /// </summary>
    public const string Version = "1.0.0";

    /// <summary>The executable's name as users type it.</summary>
    public const string ProgramName = "CameraRpc.Server";

    /// <summary>The URL <c>call</c>, <c>probe</c>, <c>bench</c> and <c>watch</c> connect to by default.</summary>
    public const string DefaultUrl = "ws://127.0.0.1:8002/ws";

    /// <summary>The shape of the line <c>watch</c> prints per event.</summary>
    private const string WatchLine = "{\"seq\":N,\"result\":VALUE}";

    private static readonly Lazy<string> s_text = new(BuildText);

    /// <summary>What <c>--version</c> prints.</summary>
    public static string VersionText => $"{ProgramName} {Version}";

    /// <summary>What <c>--help</c> prints: every command, the serve options, the exit codes.</summary>
    public static string Text => s_text.Value;

    private static string BuildText()
    {
        var text = new StringBuilder(4096);
        text.Append($"""
            {ProgramName} {Version} - JSON-RPC 2.0 server over WebSocket (and HTTP POST)

            Usage:
              {ProgramName} [serve] [options]                  run the server (the default command)
              {ProgramName} call METHOD [PARAMS_JSON] [--url URL] [--notify]
              {ProgramName} probe [--url URL] [--simple]
              {ProgramName} bench [--url URL] [--connections N] [--duration S] [--warmup S]
                                     [--pipeline D] [--method M] [--params JSON] [--json] [--server-pid PID]
                                     [--compression]
              {ProgramName} bench --subscribers N [--events E] [--rate R] [--size B]
                                     [--stalled K] [--url URL] [--json] [--server-pid PID]
              {ProgramName} watch TOPIC [PARAMS_JSON] [--url URL] [--count N]
              {ProgramName} --help | --version

            serve options (each also from CAMERARPC_<NAME> and a --config JSON file;
            command line > environment > config file > default):

            """);

        const int FlagColumn = 29;
        text.Append($"  {OptionDefinitions.ConfigFlag} FILE".PadRight(FlagColumn)).Append(' ')
            .Append("JSON file of options, keys camelCase; env ").Append(OptionDefinitions.ConfigEnvVar).Append('\n');
        foreach (OptionDefinition option in OptionDefinitions.All)
        {
            string flag = $"  {option.Flag} {option.ValueName}";
            text.Append(flag.PadRight(FlagColumn)).Append(' ').Append(option.Help).Append('\n');
            text.Append(new string(' ', FlagColumn + 1))
                .Append("default ").Append(option.DefaultText)
                .Append("; env ").Append(option.EnvVar)
                .Append("; config \"").Append(option.ConfigKey).Append('"')
                .Append('\n');
        }

        text.Append($"""

            call: sends one request (or with --notify a notification) and prints the response JSON.
              METHOD                      the method name
              PARAMS_JSON                 params as a JSON array or object (default: none)
              --url URL                   server URL (default {DefaultUrl})
              --notify                    send a notification; nothing is answered

            probe: the operator's smoke test of a live server: ping (round trip against a 50 ms
            threshold), an unknown method, malformed JSON; one line per check.
              --url URL                   server URL (default {DefaultUrl})
              --simple                    run the ping check only

            bench: closed-loop load generator, N connections with D requests in flight on each, over
            WebSocket only (ws://; it frames WebSocket itself, without TLS). Each request sent while
            measuring is answered (a result: for ping and echo the correct one), failed (an error answer
            or another result) or lost (no answer): sent = answered + failed + lost.
              --url URL                   server ws:// URL (default {DefaultUrl})
              --connections N             connections (default {BenchCommand.DefaultConnections})
              --duration S                seconds measured (default {BenchCommand.DefaultDurationSeconds})
              --warmup S                  seconds run before measuring (default {BenchCommand.DefaultWarmupSeconds})
              --pipeline D                requests in flight per connection (default {BenchCommand.DefaultPipeline})
              --method M                  method called (default ping)
              --params JSON               params of each call (default: none)
              --json                      print the report as JSON
              --server-pid PID            the server process whose CPU time is reported (default: the
                                          local process listening on the URL's port, if any)
              --compression               offer permessage-deflate, as browsers do: the connections are then
                                          the runtime's ClientWebSocket (one send per request) instead of
                                          bench's own framing; the report says on how many the server accepted it

            bench --subscribers: the fan-out benchmark, against a server run with --bench-topics on. N
            subscribers of bench.events, then one publisher in the server (bench.publish, called on a
            connection of its own); reports events delivered per second, publish-to-receive latency (the
            server on this host), events missed and seq gaps, subscribers that fell behind, events the
            server dropped from full queues.
              --subscribers N             subscribers that read every event
              --events E                  events published (default {BenchCommand.DefaultEvents}); 0: subscribe only
              --rate R                    events published per second (default 0: back to back)
              --size B                    bytes of padding in each event (default 0)
              --stalled K                 more subscribers that subscribe and then never read (default 0)
              --server-pid PID            also report the server's RSS: before connecting, with the
                                          connections open, once subscribed
              --url URL, --json           as for bench

            watch: subscribes to a topic and prints each event as one JSON line, {WatchLine}
            (a gap in seq means the server dropped or coalesced events; stderr says so). Ends on Ctrl+C
            or after N events (unsubscribing first), or when the server ends the subscription (stderr
            says why). WebSocket only (ws://, wss://).
              TOPIC                       the topic name (rpc.discover lists them under x-topics)
              PARAMS_JSON                 the topic's params as a JSON array or object (default: none)
              --url URL                   server ws:// or wss:// URL (default {DefaultUrl})
              --count N                   stop after N events (default: until Ctrl+C or the server's end)

            call, probe and watch offer permessage-deflate on a WebSocket, as browsers do; a server that does
            not accept it is spoken to uncompressed.

            call, probe, bench and watch against a server with --auth-token: set {BearerToken.EnvironmentVariable} (the
            variable the server reads; unset, empty or 'none' sends no token) and they send
            'Authorization: Bearer TOKEN' on the WebSocket upgrade and on every HTTP POST. A server that
            answers 401 is exit {ExitCodes.CannotConnect}, with one line saying whether a token was sent.

            Exit codes:
              serve    {ExitCodes.Success} after a graceful shutdown (SIGTERM/SIGINT), {ExitCodes.StartupFailure} on a startup failure
              call     {ExitCodes.Success} result, {ExitCodes.ErrorAnswer} error response, {ExitCodes.CannotConnect} cannot connect
              probe    {ExitCodes.Success} every check passed, {ExitCodes.ProbeFailed} a check failed, {ExitCodes.CannotConnect} cannot connect
              bench    {ExitCodes.Success} no request lost or failed, {ExitCodes.BenchFailed} otherwise, {ExitCodes.CannotConnect} cannot connect
              watch    {ExitCodes.Success} ended (Ctrl+C, --count, the server's end), {ExitCodes.ErrorAnswer} subscription refused, {ExitCodes.CannotConnect} cannot connect
              --help, --version  {ExitCodes.Success}

            """);
        return text.ToString();
    }
}
