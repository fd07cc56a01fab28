using System.Net.WebSockets;
using System.Text;
using CameraRpc.Server.Transport;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.Transport.Support;

namespace CameraRpc.Tests.Transport;

/// <summary>
/// The server's own RFC 6455 framing over an in-memory wire: what the end-to-end fuzz and conformance
/// tests cannot aim at precisely (frames cut at every byte by the socket, 16- and 64-bit lengths, a
/// receive buffer smaller than the frame, the headers it writes, its close states).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class ServerWebSocketTests
{
    private static readonly byte[] s_request = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"echo","params":["Grüße 📷"],"id":7}""");

    [Test, CancelAfter(10_000)]
    public async Task a_frame_that_arrives_one_byte_per_socket_read_is_the_same_message(CancellationToken cancellationToken)
    {
        using var connection = new Connection();
        foreach (byte b in RawWebSocket.EncodeFrame(RawWebSocket.OpText, s_request))
        {
            connection.Wire.Arrive([b]);
        }

        (await connection.ReceiveMessageAsync(cancellationToken)).Should().Equal(s_request, "header, mask and payload may each be cut anywhere by the socket");
    }

    [TestCase(125)]
    [TestCase(126)]
    [TestCase(65_535)]
    [TestCase(65_536)]
    [TestCase(200_000)]
    public async Task every_length_encoding_is_read(int length)
    {
        using var connection = new Connection();
        byte[] payload = Enumerable.Range(0, length).Select(i => (byte)('a' + (i % 26))).ToArray();
        connection.Wire.Arrive(RawWebSocket.EncodeFrame(RawWebSocket.OpBinary, payload));

        (await connection.ReceiveMessageAsync(CancellationToken.None)).Should().Equal(payload, "7-bit, 16-bit and 64-bit lengths, unmasked whatever the key's offset");
    }

    [Test, CancelAfter(10_000)]
    public async Task a_socket_read_that_ends_exactly_after_a_frame_header_is_waited_past(CancellationToken cancellationToken)
    {
        // A pipelining client under load: one read brings a whole message and the next frame's header, and
        // the payload comes with the next read. The read loop's zero-byte wait then finds a header and no
        // payload; it once failed the connection here (a drained read buffer was "given back" a second time).
        using var connection = new Connection();
        byte[] second = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"ping","id":8}""");
        byte[] secondFrame = RawWebSocket.EncodeFrame(RawWebSocket.OpText, second);
        const int HeaderLength = 6; // 2 bytes and the mask: a payload under 126 bytes
        connection.Wire.Arrive([.. RawWebSocket.EncodeFrame(RawWebSocket.OpText, s_request), .. secondFrame.AsSpan(0, HeaderLength)]);
        connection.Wire.Arrive(secondFrame[HeaderLength..]);

        (await connection.ReceiveMessageAsync(cancellationToken)).Should().Equal(s_request);
        (await connection.ReceiveMessageAsync(cancellationToken)).Should().Equal(second, "the payload is read when it arrives");
        connection.Socket.State.Should().Be(WebSocketState.Open);
    }

    [Test]
    public async Task a_receive_returns_once_its_buffer_is_full_and_says_when_the_message_ends()
    {
        using var connection = new Connection();
        connection.Wire.Arrive(RawWebSocket.EncodeFrame(RawWebSocket.OpText, "abcdefghij"u8));

        byte[] buffer = new byte[4];
        var results = new List<(int, bool)>();
        ValueWebSocketReceiveResult result;
        do
        {
            result = await connection.Socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            results.Add((result.Count, result.EndOfMessage));
        }
        while (!result.EndOfMessage);

        results.Should().Equal([(4, false), (4, false), (2, true)], "a frame longer than the buffer comes in buffer-sized pieces");
    }

    [Test]
    public async Task a_ping_between_fragments_is_answered_and_the_message_stays_whole()
    {
        using var connection = new Connection();
        connection.Wire.Arrive([
            .. RawWebSocket.EncodeFrame(RawWebSocket.OpText, s_request.AsSpan(0, 10), fin: false),
            .. RawWebSocket.EncodeFrame(RawWebSocket.OpPing, "are you there"u8),
            .. RawWebSocket.EncodeFrame(RawWebSocket.OpContinuation, s_request.AsSpan(10, 0), fin: false),
            .. RawWebSocket.EncodeFrame(RawWebSocket.OpContinuation, s_request.AsSpan(10)),
        ]);

        (await connection.ReceiveMessageAsync(CancellationToken.None)).Should().Equal(s_request);
        List<ServerFrame> written = ServerFrame.Parse(connection.Wire.Written);
        written.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Opcode = RawWebSocket.OpPong, Payload = "are you there"u8.ToArray() }, "a pong carries the ping's payload");
    }

    [Test]
    public async Task a_code_point_cut_between_fragments_is_valid_text_but_one_left_open_at_the_end_is_1007()
    {
        byte[] camera = "📷"u8.ToArray();
        using (var connection = new Connection())
        {
            connection.Wire.Arrive([
                .. RawWebSocket.EncodeFrame(RawWebSocket.OpText, camera.AsSpan(0, 1), fin: false),
                .. RawWebSocket.EncodeFrame(RawWebSocket.OpContinuation, camera.AsSpan(1)),
            ]);
            (await connection.ReceiveMessageAsync(CancellationToken.None)).Should().Equal(camera);
        }

        using (var connection = new Connection())
        {
            connection.Wire.Arrive(RawWebSocket.EncodeFrame(RawWebSocket.OpText, camera.AsSpan(0, 3)));
            Func<Task> receive = () => connection.ReceiveMessageAsync(CancellationToken.None);

            await receive.Should().ThrowAsync<WebSocketException>();
            ServerFrame close = ServerFrame.Parse(connection.Wire.Written).Single();
            (close.Opcode, CloseCode(close)).Should().Be((ServerFrame.Close, 1007), "RFC 6455 section 8.1: text that is not UTF-8 fails the connection");
            connection.Socket.State.Should().Be(WebSocketState.Aborted);
        }
    }

    [Test]
    public async Task the_clients_close_is_reported_with_its_code_and_answered_once()
    {
        using var connection = new Connection();
        connection.Wire.Arrive(RawWebSocket.EncodeFrame(RawWebSocket.OpClose, RawWebSocket.ClosePayload(4001, "bye"u8)));

        ValueWebSocketReceiveResult result = await connection.Socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
        (result.MessageType, connection.Socket.CloseStatus, connection.Socket.CloseStatusDescription, connection.Socket.State)
            .Should().Be((WebSocketMessageType.Close, (WebSocketCloseStatus)4001, "bye", WebSocketState.CloseReceived));

        await connection.Socket.CloseOutputAsync(connection.Socket.CloseStatus!.Value, string.Empty, CancellationToken.None);
        await connection.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "again", CancellationToken.None);

        connection.Socket.State.Should().Be(WebSocketState.Closed);
        ServerFrame.Parse(connection.Wire.Written).Select(CloseCode).Should().Equal([4001], "the client's code is echoed, and only one close frame goes out");
    }

    [Test]
    public async Task after_its_own_close_the_server_sends_no_more_messages_but_still_reads_the_clients_answer()
    {
        using var connection = new Connection();
        await connection.Socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "shutting down", CancellationToken.None);
        Func<Task> send = () => connection.Socket.SendAsync("late"u8.ToArray(), WebSocketMessageType.Text, WebSocketMessageFlags.EndOfMessage, CancellationToken.None).AsTask();
        await send.Should().ThrowAsync<WebSocketException>("nothing may follow a close frame");

        connection.Wire.Arrive(RawWebSocket.EncodeFrame(RawWebSocket.OpClose, RawWebSocket.ClosePayload(1001)));
        ValueWebSocketReceiveResult result = await connection.Socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);

        (result.MessageType, connection.Socket.State).Should().Be((WebSocketMessageType.Close, WebSocketState.Closed));
        ServerFrame frame = ServerFrame.Parse(connection.Wire.Written).Single();
        (CloseCode(frame), Encoding.UTF8.GetString(frame.Payload.AsSpan(2))).Should().Be((1001, "shutting down"));
    }

    [TestCase(0)]
    [TestCase(125)]
    [TestCase(126)]
    [TestCase(65_535)]
    [TestCase(65_536)]
    public async Task a_message_goes_out_as_one_unmasked_final_frame_with_the_shortest_length_encoding(int length)
    {
        using var connection = new Connection();
        byte[] payload = new byte[length];
        Random.Shared.NextBytes(payload);

        await connection.Socket.SendAsync(payload, WebSocketMessageType.Binary, WebSocketMessageFlags.EndOfMessage, CancellationToken.None);

        byte[] written = connection.Wire.Written;
        int expectedHeader = length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;
        (written[0], written[1] & 0x80, written.Length).Should().Be(((byte)0x82, 0, expectedHeader + length), "FIN + binary, no mask from a server");
        ServerFrame.Parse(written).Single().Payload.Should().Equal(payload);
    }

    [Test]
    public void a_close_reason_too_long_for_a_control_frame_is_cut_at_a_whole_character()
    {
        byte[] payload = ServerWebSocket.ClosePayload(WebSocketCloseStatus.MessageTooBig, new string('é', 100));

        payload.Length.Should().BeLessThanOrEqualTo(125);
        System.Text.Unicode.Utf8.IsValid(payload.AsSpan(2)).Should().BeTrue("the reason stays UTF-8 when it is cut");
    }

    [Test]
    public void masking_in_pieces_at_any_key_offset_equals_masking_byte_by_byte()
    {
        byte[] key = [0x11, 0x22, 0x33, 0x44];
        int mask = BitConverter.ToInt32(key);
        byte[] data = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        byte[] expected = data.Select((b, i) => (byte)(b ^ key[i & 3])).ToArray();

        foreach (int cut in new[] { 0, 1, 2, 3, 5, 33, 64, 299 })
        {
            byte[] masked = data.ToArray();
            int index = ServerWebSocket.ApplyMask(masked.AsSpan(0, cut), mask, 0);
            ServerWebSocket.ApplyMask(masked.AsSpan(cut), mask, index);
            masked.Should().Equal(expected, $"cut at {cut}");
        }
    }

    private static int CloseCode(ServerFrame frame) => (frame.Payload[0] << 8) | frame.Payload[1];

    /// <summary>A server WebSocket over an in-memory wire, without keep-alive.</summary>
    private sealed class Connection : IDisposable
    {
        public Connection()
        {
            Socket = new ServerWebSocket(new ConnectionStream(Wire), TimeSpan.Zero, TimeSpan.Zero);
        }

        public RecordingStream Wire { get; } = new();

        public ServerWebSocket Socket { get; }

        /// <summary>One whole data message, read the way the connection's read loop reads (a zero-byte wait, then pieces).</summary>
        public async Task<byte[]> ReceiveMessageAsync(CancellationToken cancellationToken)
        {
            var message = new List<byte>();
            ValueWebSocketReceiveResult result = await Socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
            byte[] buffer = new byte[4096];
            while (!result.EndOfMessage)
            {
                result = await Socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                message.AddRange(buffer.AsSpan(0, result.Count).ToArray());
            }

            return [.. message];
        }

        public void Dispose() => Socket.Dispose();
    }
}
