using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CameraRpc.Server.Tools.Commands;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Tools;

/// <summary>
/// call and probe against what a broken deployment looks like: nothing listening, and a server
/// that upgrades but answers wrongly. No real CameraRpc server is involved.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class ClientCommandTests
{
    [Test]
    [CancelAfter(20_000)]
    public async Task call_exits_with_2_and_one_clear_line_when_nothing_listens(CancellationToken cancellationToken)
    {
        int port = FreePort();
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exitCode = await CallCommand.RunAsync(["ping", "--url", $"ws://127.0.0.1:{port}/ws"], stdout, stderr, cancellationToken);

        exitCode.Should().Be(2, "2 means cannot connect");
        stdout.ToString().Should().BeEmpty();
        stderr.ToString().Trim().Should().StartWith($"cannot connect to ws://127.0.0.1:{port}/ws: ")
            .And.NotContain("\n", "the reason is one line");
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task call_over_http_exits_with_2_when_nothing_listens(CancellationToken cancellationToken)
    {
        int port = FreePort();
        var stderr = new StringWriter();

        int exitCode = await CallCommand.RunAsync(["ping", "--url", $"http://127.0.0.1:{port}/ws"], new StringWriter(), stderr, cancellationToken);

        exitCode.Should().Be(2);
        stderr.ToString().Should().StartWith($"cannot connect to http://127.0.0.1:{port}/ws: ");
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task call_with_bad_params_exits_with_1_and_the_usage_before_connecting(CancellationToken cancellationToken)
    {
        var stderr = new StringWriter();

        int exitCode = await CallCommand.RunAsync(["ping", "not json"], new StringWriter(), stderr, cancellationToken);

        exitCode.Should().Be(1);
        stderr.ToString().Should().Contain("PARAMS_JSON").And.Contain(CallCommand.Usage);
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task probe_exits_with_2_and_a_cross_when_nothing_listens(CancellationToken cancellationToken)
    {
        int port = FreePort();
        var stdout = new StringWriter();

        int exitCode = await ProbeCommand.RunAsync(["--url", $"ws://127.0.0.1:{port}/ws"], stdout, new StringWriter(), cancellationToken);

        exitCode.Should().Be(2);
        stdout.ToString().Should().StartWith("❌ cannot connect to");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task probe_fails_every_check_against_a_server_that_answers_wrongly(CancellationToken cancellationToken)
    {
        await using var server = WrongServer.Start(cancellationToken);
        var stdout = new StringWriter();

        int exitCode = await ProbeCommand.RunAsync(["--url", server.Url], stdout, new StringWriter(), cancellationToken);

        exitCode.Should().Be(1, "a check failed");
        string[] lines = stdout.ToString().Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        lines.Should().Contain(line => line.StartsWith("❌ Ping test failed!", StringComparison.Ordinal));
        lines.Should().Contain(line => line.StartsWith("❌ Invalid method test failed!", StringComparison.Ordinal));
        lines.Should().Contain(line => line.StartsWith("❌ Malformed JSON test failed!", StringComparison.Ordinal));
        lines.Should().NotContain(line => line.Contains("All tests passed", StringComparison.Ordinal));
        lines[^1].Should().MatchRegex(@"^❌ \d+ of 4 checks failed$");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task call_prints_the_answer_and_exits_with_0_for_a_result(CancellationToken cancellationToken)
    {
        await using var server = WrongServer.Start(cancellationToken);
        var stdout = new StringWriter();

        int exitCode = await CallCommand.RunAsync(["ping", "--url", server.Url], stdout, new StringWriter(), cancellationToken);

        exitCode.Should().Be(0, "the fake answers with a result, wrong as it is");
        stdout.ToString().Trim().Should().Be("{\"jsonrpc\":\"2.0\",\"result\":\"wrong\",\"id\":1}", "piped output is compact");
    }

    private static int FreePort()
    {
        // Bind to get a free port, then stop: connecting to it afterwards is refused.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>An HttpListener that upgrades every request and answers each message with the result "wrong".</summary>
    private sealed class WrongServer : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly Task _accepting;

        private WrongServer(HttpListener listener, int port, CancellationToken cancellationToken)
        {
            _listener = listener;
            Url = $"ws://127.0.0.1:{port}/ws";
            _accepting = AcceptAsync(cancellationToken);
        }

        public string Url { get; }

        public static WrongServer Start(CancellationToken cancellationToken)
        {
            int port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
            return new WrongServer(listener, port, cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            try
            {
                await _accepting;
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or OperationCanceledException)
            {
                // Stopping the listener ends the accept loop this way.
            }
        }

        private async Task AcceptAsync(CancellationToken cancellationToken)
        {
            var sessions = new List<Task>();
            while (_listener.IsListening)
            {
                HttpListenerContext context = await _listener.GetContextAsync().WaitAsync(cancellationToken);
                sessions.Add(AnswerWronglyAsync(context, cancellationToken));
            }
        }

        private static async Task AnswerWronglyAsync(HttpListenerContext context, CancellationToken cancellationToken)
        {
            HttpListenerWebSocketContext webSocketContext = await context.AcceptWebSocketAsync(subProtocol: null);
            using WebSocket socket = webSocketContext.WebSocket;
            byte[] buffer = new byte[4096];
            try
            {
                while (socket.State == WebSocketState.Open)
                {
                    WebSocketReceiveResult received = await socket.ReceiveAsync(buffer, cancellationToken);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                        return;
                    }

                    string id = "null";
                    try
                    {
                        using JsonDocument request = JsonDocument.Parse(buffer.AsMemory(0, received.Count));
                        if (request.RootElement.TryGetProperty("id", out JsonElement idElement))
                        {
                            id = idElement.GetRawText();
                        }
                    }
                    catch (JsonException)
                    {
                        // Malformed input gets the same wrong answer.
                    }

                    byte[] answer = Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"result\":\"wrong\",\"id\":{id}}}");
                    await socket.SendAsync(answer, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                }
            }
            catch (WebSocketException)
            {
                // The probe closed or dropped its connection.
            }
        }
    }
}
