using System.Net;
using System.Net.Sockets;
using System.Text;
using CameraRpc.Server.Tools.Commands;
using CameraRpc.Server.Tools.WebSockets;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Tools;

/// <summary>
/// call when the transport goes wrong in every way it can: a server that never accepts, a name that does
/// not resolve, a connection reset in the middle of the answer, an answer that is not JSON. Each is exit 2
/// with one line on stderr saying why, never an unhandled exception.
/// </summary>
public sealed partial class ClientCommandTests
{
    private static readonly TimeSpan s_shortConnectTimeout = TimeSpan.FromSeconds(1);

    [TestCase("ws")]
    [TestCase("http")]
    [CancelAfter(20_000)]
    public async Task call_exits_2_with_one_line_when_the_server_never_accepts(string scheme, CancellationToken cancellationToken)
    {
        using UnacceptingListener listener = await UnacceptingListener.StartAsync(cancellationToken);
        string url = $"{scheme}://127.0.0.1:{listener.Port}/ws";
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exitCode = await CallCommand.RunAsync(["ping", "--url", url], authTokenVariable: null, stdout, stderr, s_shortConnectTimeout, cancellationToken);

        exitCode.Should().Be(2, "a server that cannot be connected to is exit 2, whatever the transport");
        stdout.ToString().Should().BeEmpty();
        Lines(stderr).Should().Equal([$"cannot connect to {url}: not connected within 1 s"]);
    }

    [TestCase("ws")]
    [TestCase("http")]
    [CancelAfter(20_000)]
    public async Task call_exits_2_with_one_line_when_the_host_name_does_not_resolve(string scheme, CancellationToken cancellationToken)
    {
        // .invalid never resolves (RFC 6761); without a resolver at all the connect times out instead.
        string url = $"{scheme}://camera.invalid:8002/ws";
        var stderr = new StringWriter();

        int exitCode = await CallCommand.RunAsync(["ping", "--url", url], authTokenVariable: null, new StringWriter(), stderr, TimeSpan.FromSeconds(5), cancellationToken);

        exitCode.Should().Be(2);
        Lines(stderr).Should().ContainSingle().Which.Should().StartWith($"cannot connect to {url}: ");
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task call_over_http_exits_2_with_one_line_when_the_connection_is_reset_mid_answer(CancellationToken cancellationToken)
    {
        using var server = ScriptedServer.Start(async (socket, _, token) =>
        {
            await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\":"u8.ToArray(), token);
            Reset(socket);
        }, cancellationToken);
        string url = $"http://127.0.0.1:{server.Port}/ws";
        var stderr = new StringWriter();

        int exitCode = await CallCommand.RunAsync(["ping", "--url", url], new StringWriter(), stderr, cancellationToken);

        exitCode.Should().Be(2, "no answer came");
        Lines(stderr).Should().ContainSingle().Which.Should().StartWith($"connection to {url} failed while waiting for the answer: ");
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task call_over_websocket_exits_2_with_one_line_when_the_connection_is_reset_mid_answer(CancellationToken cancellationToken)
    {
        using var server = ScriptedServer.Start(async (socket, head, token) =>
        {
            string key = head.Split("\r\n").Single(line => line.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))[18..].Trim();
            string accept = WebSocketAccept.Compute(key);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"), token);

            // Wait for the request frame, then send the first bytes of a 100-byte text frame and reset.
            await socket.ReceiveAsync(new byte[4096], token);
            await socket.SendAsync(new byte[] { 0x81, 100, (byte)'{', (byte)'"' }, token);
            Reset(socket);
        }, cancellationToken);
        string url = $"ws://127.0.0.1:{server.Port}/ws";
        var stderr = new StringWriter();

        int exitCode = await CallCommand.RunAsync(["ping", "--url", url], new StringWriter(), stderr, cancellationToken);

        exitCode.Should().Be(2, "no answer came");
        Lines(stderr).Should().ContainSingle().Which.Should().StartWith($"connection to {url} failed while waiting for the answer: ");
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task call_over_http_exits_2_with_one_line_when_the_answer_is_a_page_of_html(CancellationToken cancellationToken)
    {
        const string Page = "<html>\r\n<body>\r\nBad gateway\r\n</body>\r\n</html>\r\n";
        using var server = ScriptedServer.Start(async (socket, _, token) =>
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {Page.Length}\r\nConnection: close\r\n\r\n{Page}"), token);
            socket.Shutdown(SocketShutdown.Send);
        }, cancellationToken);
        string url = $"http://127.0.0.1:{server.Port}/ws";
        var stderr = new StringWriter();

        int exitCode = await CallCommand.RunAsync(["ping", "--url", url], new StringWriter(), stderr, cancellationToken);

        exitCode.Should().Be(2);
        Lines(stderr).Should().Equal([$"{url} answered with a body that is not JSON: <html> <body> Bad gateway </body> </html>"], "the page is quoted on one line");
    }

    [TestCase("call")]
    [TestCase("watch")]
    [CancelAfter(20_000)]
    public async Task call_and_watch_offer_permessage_deflate_as_browsers_do(string command, CancellationToken cancellationToken)
    {
        var upgrade = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = ScriptedServer.Start(async (socket, head, token) =>
        {
            upgrade.TrySetResult(head);
            await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), token);
        }, cancellationToken);
        string url = $"ws://127.0.0.1:{server.Port}/ws";

        int exitCode = command == "call"
            ? await CallCommand.RunAsync(["ping", "--url", url], new StringWriter(), new StringWriter(), cancellationToken)
            : await WatchCommand.RunAsync(["server.stats", "--url", url], new StringWriter(), new StringWriter(), cancellationToken);

        exitCode.Should().Be(2, "the scripted server refuses with 401");
        string extensions = (await upgrade.Task.WaitAsync(cancellationToken)).Split("\r\n")
            .Single(line => line.StartsWith("Sec-WebSocket-Extensions:", StringComparison.OrdinalIgnoreCase));
        extensions["Sec-WebSocket-Extensions:".Length..].Trim().Should().Be(
            "permessage-deflate; client_max_window_bits", "the offer every browser makes; a server that does not take it runs uncompressed");
    }

    [TestCase("[]", false)]
    [TestCase("[\"@\"]", true)]
    [CancelAfter(20_000)]
    public async Task call_compresses_only_requests_of_256_bytes_or_more_once_deflate_is_negotiated(string @params, bool compressed, CancellationToken cancellationToken)
    {
        // The request's first frame byte: 0x81 is a final text frame, 0xC1 the same with RSV1 (compressed).
        var firstByte = new TaskCompletionSource<byte>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = ScriptedServer.Start(async (socket, head, token) =>
        {
            string key = head.Split("\r\n").Single(line => line.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))[18..].Trim();
            await socket.SendAsync(Encoding.ASCII.GetBytes(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Accept: {WebSocketAccept.Compute(key)}\r\n" +
                "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\r\n"), token);
            byte[] frame = new byte[8192];
            await socket.ReceiveAsync(frame, token);
            firstByte.TrySetResult(frame[0]);
            byte[] answer = "{\"jsonrpc\":\"2.0\",\"result\":\"pong\",\"id\":1}"u8.ToArray();
            await socket.SendAsync((byte[])[0x81, (byte)answer.Length, .. answer], token);
        }, cancellationToken);
        string url = $"ws://127.0.0.1:{server.Port}/ws";

        // A params array of one 1,000-character string makes the request well over 256 bytes.
        string requestParams = @params.Replace("@", new string('x', 1_000), StringComparison.Ordinal);
        int exitCode = await CallCommand.RunAsync(["echo", requestParams, "--url", url], new StringWriter(), new StringWriter(), cancellationToken);

        exitCode.Should().Be(0);
        byte first = await firstByte.Task.WaitAsync(cancellationToken);
        (first & 0x40).Should().Be(compressed ? 0x40 : 0,
            compressed ? "a large request is worth compressing" : "a small request would not shrink, and compressing it costs the client a fresh deflater");
    }

    private static string[] Lines(StringWriter writer) =>
        writer.ToString().Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Closes with a TCP reset (linger 0) instead of an orderly FIN.</summary>
    private static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(enable: true, seconds: 0);
        socket.Close();
    }

    /// <summary>Accepts one connection on loopback, reads the request head, and hands the socket to a script.</summary>
    private sealed class ScriptedServer : IDisposable
    {
        private readonly TcpListener _listener;

        private ScriptedServer(TcpListener listener) => _listener = listener;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static ScriptedServer Start(Func<Socket, string, CancellationToken, Task> script, CancellationToken cancellationToken)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            _ = ServeAsync(listener, script, cancellationToken);
            return new ScriptedServer(listener);
        }

        public void Dispose() => _listener.Stop();

        private static async Task ServeAsync(TcpListener listener, Func<Socket, string, CancellationToken, Task> script, CancellationToken cancellationToken)
        {
            try
            {
                using Socket socket = await listener.AcceptSocketAsync(cancellationToken);
                var head = new StringBuilder();
                byte[] buffer = new byte[4096];
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    int received = await socket.ReceiveAsync(buffer, cancellationToken);
                    if (received == 0)
                    {
                        return;
                    }

                    head.Append(Encoding.ASCII.GetString(buffer, 0, received));
                }

                await script(socket, head.ToString(), cancellationToken);
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The test ended (or the client gave up) first; what it saw is what the test checks.
            }
        }
    }
}
