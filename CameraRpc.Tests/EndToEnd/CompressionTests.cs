using System.Net.WebSockets;
using System.Text;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// permessage-deflate (CONTRACT section 7) against the real server: the exact answer to each offer a
/// real client makes, round trips through the runtime's compressing <see cref="ClientWebSocket"/>,
/// small answers left uncompressed, and the metrics counting what crossed the wire.
/// </summary>
[NonParallelizable]
public sealed class CompressionTests : SharedServerFixture
{
    internal const string NoTakeoverAnswer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

    protected override string[] ServerArguments => ["--log-level", "debug"];

    private static IEnumerable<TestCaseData> Offers()
    {
        static TestCaseData Case(string name, string? answer, params string[] lines) =>
            new TestCaseData(lines, answer).SetName($"the answer to {name}");

        yield return Case("a bare offer (Firefox)", NoTakeoverAnswer, "permessage-deflate");
        yield return Case("client_max_window_bits without a value (Chrome, Safari, Python websockets)", NoTakeoverAnswer, "permessage-deflate; client_max_window_bits");
        yield return Case("client_max_window_bits with a value", NoTakeoverAnswer, "permessage-deflate; client_max_window_bits=10");
        yield return Case("server_max_window_bits", NoTakeoverAnswer + "; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=10");
        yield return Case("client_no_context_takeover", NoTakeoverAnswer, "permessage-deflate; client_no_context_takeover");
        yield return Case("server_no_context_takeover", NoTakeoverAnswer, "permessage-deflate; server_no_context_takeover");
        yield return Case("every parameter at once", NoTakeoverAnswer + "; server_max_window_bits=12",
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits");
        yield return Case("several offers, the first one not acceptable", NoTakeoverAnswer + "; server_max_window_bits=12",
            "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=12, permessage-deflate");
        yield return Case("offers over several header lines", NoTakeoverAnswer + "; server_max_window_bits=11",
            "x-webkit-deflate-frame", "permessage-deflate; mystery=1", "permessage-deflate; server_max_window_bits=11");
        yield return Case("an unknown extension beside it", NoTakeoverAnswer, "foo; bar=\"a,b\", permessage-deflate; client_max_window_bits");
        yield return Case("a repeated parameter alone (declined)", null, "permessage-deflate; server_no_context_takeover; server_no_context_takeover");
        yield return Case("a window of 16 alone (declined)", null, "permessage-deflate; server_max_window_bits=16");
        yield return Case("a window of abc alone (declined)", null, "permessage-deflate; client_max_window_bits=abc");
        yield return Case("only other extensions", null, "x-webkit-deflate-frame");
        yield return Case("no extension header", null);
    }

    [TestCaseSource(nameof(Offers)), CancelAfter(30_000)]
    public async Task the_101_answers_an_offer_with_exactly_this_extension_header_or_none(string[] offerLines, string? answer, CancellationToken cancellationToken)
    {
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(
            Server.Port, cancellationToken, extraHeaders: offerLines.Select(line => "Sec-WebSocket-Extensions: " + line));

        socket.HandshakeStatus.Should().Be(101, "an offer the server cannot take is declined, never a failed upgrade");
        socket.AgreedExtensions.Should().Be(answer);
        await socket.SendTextAsync("""{"jsonrpc":"2.0","method":"ping","id":1}""", cancellationToken);
        (await socket.ReadMessageAsync(cancellationToken))!.Value.Text.Should().Be("""{"jsonrpc":"2.0","result":"pong","id":1}""");
    }

    [Test, CancelAfter(30_000)]
    public async Task the_negotiated_extension_is_named_in_a_debug_line(CancellationToken cancellationToken)
    {
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(Server.Port, cancellationToken, extraHeaders: ["Sec-WebSocket-Extensions: permessage-deflate"]);
        socket.PerMessageDeflate.Should().BeTrue();

        string line = await Server.WaitForLineAsync(l => l.Contains("DEBUG", StringComparison.Ordinal) && l.Contains(NoTakeoverAnswer, StringComparison.Ordinal), cancellationToken);

        line.Should().Contain("Compression for 127.0.0.1:", "the operator can see what each connection agreed");

        await using RawWebSocket declined = await RawWebSocket.ConnectAsync(Server.Port, cancellationToken, extraHeaders: ["Sec-WebSocket-Extensions: x-webkit-deflate-frame"]);
        declined.AgreedExtensions.Should().BeNull();
        await Server.WaitForLineAsync(l => l.Contains("DEBUG", StringComparison.Ordinal) && l.EndsWith(": none (offered: x-webkit-deflate-frame)", StringComparison.Ordinal), cancellationToken);
    }

    [Test, CancelAfter(30_000)]
    public async Task answers_under_256_bytes_go_out_uncompressed_and_larger_ones_compressed(CancellationToken cancellationToken)
    {
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(Server.Port, cancellationToken, extraHeaders: ["Sec-WebSocket-Extensions: permessage-deflate"]);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","method":"ping","id":1}""", cancellationToken);
        RawFrame pong = (await socket.ReadMessageAsync(cancellationToken))!.Value;
        pong.Rsv1.Should().BeFalse("a 40-byte answer would only grow in the compressor");
        pong.Text.Should().Be("""{"jsonrpc":"2.0","result":"pong","id":1}""");

        string document = SampleDocument(4096);
        await socket.SendTextAsync(EchoRequest(document, 2), cancellationToken);
        RawFrame echo = (await socket.ReadMessageAsync(cancellationToken))!.Value;
        echo.Rsv1.Should().BeTrue("a 4 KiB JSON answer is worth compressing");
        echo.Text.Should().Be(EchoAnswer(document, 2));
    }

    [TestCase(false), TestCase(true), CancelAfter(60_000)]
    public async Task small_large_fragmented_text_and_binary_messages_round_trip_through_a_compressing_client(bool clientAllowsTakeover, CancellationToken cancellationToken)
    {
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(Server.WebSocketUri, cancellationToken, options =>
        {
            options.CollectHttpResponseDetails = true;
            options.DangerousDeflateOptions = new WebSocketDeflateOptions { ClientContextTakeover = clientAllowsTakeover, ServerContextTakeover = clientAllowsTakeover };
        });
        ((ClientWebSocket)client.Socket).HttpResponseHeaders!["Sec-WebSocket-Extensions"].Should().Equal(
            [NoTakeoverAnswer], "the server keeps no context in either direction, whatever the client would allow");

        (await client.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":1}""", cancellationToken)).Should().Be("""{"jsonrpc":"2.0","result":"pong","id":1}""");

        // Several in a row: each message is compressed on its own, none depends on the one before.
        for (int i = 0; i < 20; i++)
        {
            string text = SampleDocument(100 + (i * 997));
            (await client.CallAsync(EchoRequest(text, i), cancellationToken)).Should().Be(EchoAnswer(text, i));
        }

        string large = SampleDocument(600 * 1024);
        (await client.CallAsync(EchoRequest(large, "large"), cancellationToken)).Should().Be(EchoAnswer(large, "large"));

        await client.SendAsync(EchoRequest(large, "binary"), cancellationToken, WebSocketMessageType.Binary);
        (string Text, WebSocketMessageType Type)? binary = await client.ReceiveAsync(cancellationToken);
        binary!.Value.Type.Should().Be(WebSocketMessageType.Binary, "the answer goes back in the frame type of the request");
        binary.Value.Text.Should().Be(EchoAnswer(large, "binary"));

        // One message in three fragments: the client compresses them as one deflate stream.
        byte[] request = Encoding.UTF8.GetBytes(EchoRequest(large, "fragments"));
        int third = request.Length / 3;
        await client.Socket.SendAsync(request.AsMemory(0, third), WebSocketMessageType.Text, false, cancellationToken);
        await client.Socket.SendAsync(request.AsMemory(third, third), WebSocketMessageType.Text, false, cancellationToken);
        await client.Socket.SendAsync(request.AsMemory(2 * third), WebSocketMessageType.Text, true, cancellationToken);
        (await client.ReceiveAsync(cancellationToken))!.Value.Text.Should().Be(EchoAnswer(large, "fragments"));
    }

    [Test, CancelAfter(30_000)]
    public async Task the_byte_counters_count_what_crossed_the_wire_after_compression(CancellationToken cancellationToken)
    {
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(Server.WebSocketUri, cancellationToken,
            options => options.DangerousDeflateOptions = new WebSocketDeflateOptions());
        string large = SampleDocument(256 * 1024);
        string request = EchoRequest(large, 1);
        string answer = EchoAnswer(large, 1);
        (await client.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":0}""", cancellationToken)).Should().Contain("pong");

        double receivedBefore = await ServerProbe.MetricAsync(Server.Port, "camerarpc_received_bytes_total", cancellationToken);
        double sentBefore = await ServerProbe.MetricAsync(Server.Port, "camerarpc_sent_bytes_total", cancellationToken);
        (await client.CallAsync(request, cancellationToken)).Should().Be(answer);
        double received = await ServerProbe.MetricAsync(Server.Port, "camerarpc_received_bytes_total", cancellationToken) - receivedBefore;
        double sent = await ServerProbe.MetricAsync(Server.Port, "camerarpc_sent_bytes_total", cancellationToken) - sentBefore;

        // The document compresses to about an eighth; uncompressed it would count at least its own length.
        received.Should().BeInRange(1, request.Length / 4.0, "received bytes are counted as they arrived, compressed");
        sent.Should().BeInRange(1, answer.Length / 4.0, "sent bytes are counted as they left, compressed");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_compressed_message_over_the_size_limit_closes_with_1009_like_any_other(CancellationToken cancellationToken)
    {
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(Server.WebSocketUri, cancellationToken,
            options => options.DangerousDeflateOptions = new WebSocketDeflateOptions());
        string tooBig = new('a', 1024 * 1024 + 1); // one byte over the default --max-message-bytes, a few KiB on the wire

        await client.SendAsync(tooBig, cancellationToken);

        (await client.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.MessageTooBig, "the limit counts inflated bytes");
    }

    [Test, CancelAfter(60_000)]
    public async Task with_compression_off_an_offer_is_never_answered_and_the_connection_works_uncompressed(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--compression", "off", "--log-level", "debug");
        await using RawWebSocket raw = await RawWebSocket.ConnectAsync(server.Port, cancellationToken, extraHeaders: ["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"]);
        raw.HandshakeStatus.Should().Be(101);
        raw.AgreedExtensions.Should().BeNull("--compression off: the server never negotiates permessage-deflate");

        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken, options =>
        {
            options.CollectHttpResponseDetails = true;
            options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        });
        ((ClientWebSocket)client.Socket).HttpResponseHeaders!.Should().NotContainKey("Sec-WebSocket-Extensions");
        string large = SampleDocument(64 * 1024);
        (await client.CallAsync(EchoRequest(large, 1), cancellationToken)).Should().Be(EchoAnswer(large, 1), "a compressing client falls back to plain frames");
        double sent = await ServerProbe.MetricAsync(server.Port, "camerarpc_sent_bytes_total", cancellationToken);
        sent.Should().BeGreaterThanOrEqualTo(EchoAnswer(large, 1).Length, "uncompressed, the answer's bytes are counted as they are");
        server.Lines.Should().NotContain(line => line.Contains("Compression for", StringComparison.Ordinal), "nothing is negotiated, so nothing is logged about it");
    }

    /// <summary>A JSON-looking text of about <paramref name="length"/> characters that compresses as camera JSON does.</summary>
    internal static string SampleDocument(int length)
    {
        var text = new StringBuilder(length + 128);
        for (int i = 0; text.Length < length; i++)
        {
            text.Append("{id:").Append(9963776 + i).Append(",name:control_").Append(i).Append("_brightness,min:0,max:255,value:").Append((i * 37) % 256).Append("} ");
        }

        return text.ToString(0, length);
    }

    internal static string EchoRequest(string text, object id) => $$"""{"jsonrpc":"2.0","method":"echo","params":["{{text}}"],"id":{{Id(id)}}}""";

    internal static string EchoAnswer(string text, object id) => $$"""{"jsonrpc":"2.0","result":"{{text}}","id":{{Id(id)}}}""";

    private static string Id(object id) => id is string s ? $"\"{s}\"" : id.ToString()!;
}
