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

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(5)]
    [TestCase(6)]
    [TestCase(7)]
    [TestCase(8)]
    [CancelAfter(10_000)]
    public async Task messages_cut_into_socket_reads_anywhere_and_received_in_pieces_of_any_size_come_back_whole_and_in_order(int seed, CancellationToken cancellationToken)
    {
        // The systematic form of the test above: a seeded stream of text and binary messages (every
        // length encoding, fragments, pings and pongs between fragments and between messages, code
        // points cut between fragments), cut into socket reads at random points biased to fall at and
        // inside frame headers, and read the way the read loop reads with random buffer sizes.
        var random = new Random(seed);
        var traffic = new Traffic(random);
        traffic.AddMessages();
        traffic.AddFrame(RawWebSocket.OpClose, RawWebSocket.ClosePayload(1000, "done"u8)); // all bytes read, and in step
        List<byte[]> reads = traffic.CutIntoReads();
        using var connection = new Connection();
        foreach (byte[] read in reads)
        {
            connection.Wire.Arrive(read);
        }

        for (int m = 0; m < traffic.Messages.Count; m++)
        {
            (WebSocketMessageType type, byte[] payload) = traffic.Messages[m];
            string context = $"seed {seed}, message {m} of {traffic.Messages.Count} ({type}, {payload.Length} bytes, fed in {reads.Count} socket reads)";
            (List<WebSocketMessageType> types, byte[] received) = await ReceiveLikeTheReadLoopAsync(connection.Socket, random, context, cancellationToken);

            types.Should().AllBeEquivalentTo(type, context);
            received.AsSpan().SequenceEqual(payload).Should().BeTrue($"{context}: the message comes back byte for byte (got {received.Length} bytes)");
            connection.Socket.State.Should().Be(WebSocketState.Open, context);
        }

        ValueWebSocketReceiveResult close = await connection.Socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
        (close.MessageType, connection.Socket.CloseStatus, connection.Socket.CloseStatusDescription)
            .Should().Be((WebSocketMessageType.Close, WebSocketCloseStatus.NormalClosure, "done"), $"seed {seed}: the client's close follows the last message");
        List<ServerFrame> written = ServerFrame.Parse(connection.Wire.Written);
        written.Select(frame => frame.Opcode).Should().AllBeEquivalentTo(RawWebSocket.OpPong, $"seed {seed}: only pongs are written");
        written.Select(frame => Convert.ToHexString(frame.Payload)).Should()
            .Equal(traffic.Pings.Select(Convert.ToHexString), $"seed {seed}: every ping gets exactly its pong, in order");
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

    /// <summary>
    /// One message as the connection's read loop reads it (<c>WebSocketConnection.ReadLoopAsync</c>): a
    /// zero-length wait, then receives until the end of the message, here into buffers of random sizes
    /// (1 byte to more than the read buffer's pooled reads). The type of each piece comes with it.
    /// </summary>
    private static async Task<(List<WebSocketMessageType> Types, byte[] Payload)> ReceiveLikeTheReadLoopAsync(
        ServerWebSocket socket, Random random, string context, CancellationToken cancellationToken)
    {
        var types = new List<WebSocketMessageType>();
        var message = new MemoryStream();
        byte[] buffer = new byte[70_000];
        try
        {
            ValueWebSocketReceiveResult result = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
            types.Add(result.MessageType);
            while (!result.EndOfMessage)
            {
                int size = random.Next(10) switch
                {
                    0 => 1,
                    < 3 => random.Next(2, 16),
                    < 6 => random.Next(16, 1024),
                    < 8 => random.Next(1024, 16 * 1024),
                    _ => random.Next(16 * 1024, buffer.Length + 1), // the read buffer reads straight into a buffer this large
                };
                result = await socket.ReceiveAsync(buffer.AsMemory(0, size), cancellationToken);
                types.Add(result.MessageType);
                message.Write(buffer, 0, result.Count);
            }
        }
        catch (Exception exception) when (exception is not AssertionException)
        {
            throw new AssertionException($"{context}: the receive failed after {message.Length} bytes: {exception}");
        }

        return (types, message.ToArray());
    }

    /// <summary>
    /// What a client sends for <see cref="messages_cut_into_socket_reads_anywhere_and_received_in_pieces_of_any_size_come_back_whole_and_in_order"/>,
    /// all drawn from one seeded <see cref="Random"/> (the masking keys too), so that a failure reproduces.
    /// </summary>
    private sealed class Traffic(Random random)
    {
        private static readonly int[] s_edgeLengths = [0, 1, 5, 125, 126, 127, 65_535, 65_536];

        // 1- to 4-byte UTF-8 sequences, the multi-byte ones often, so that fragments cut them.
        private static readonly byte[][] s_characters = [.. new[] { "a", "Z", " ", "\"", "é", "ß", "€", "カ", "📷", "😀" }.Select(Encoding.UTF8.GetBytes)];

        private readonly List<(byte[] Bytes, int HeaderLength)> _frames = [];

        public List<(WebSocketMessageType Type, byte[] Payload)> Messages { get; } = [];

        /// <summary>The payloads of the pings sent, in order.</summary>
        public List<byte[]> Pings { get; } = [];

        /// <summary>Every edge length once and random ones, shuffled; some fragmented, with control frames around.</summary>
        public void AddMessages()
        {
            int[] lengths = [.. s_edgeLengths, .. Enumerable.Range(0, 56).Select(_ => random.Next(4) == 0 ? random.Next(70_000) : random.Next(400))];
            random.Shuffle(lengths);
            foreach (int length in lengths)
            {
                AddControlFrames();
                bool text = random.Next(2) == 0;
                byte[] payload = text ? Utf8Text(length) : RandomBytes(length);
                Messages.Add((text ? WebSocketMessageType.Text : WebSocketMessageType.Binary, payload));
                int opcode = text ? RawWebSocket.OpText : RawWebSocket.OpBinary;
                if (random.Next(5) < 3)
                {
                    AddFrame(opcode, payload);
                    continue;
                }

                // Fragments cut at random points (empty ones included), control frames between them.
                int[] cuts = [.. Enumerable.Range(0, random.Next(1, 5)).Select(_ => random.Next(length + 1)).Order(), length];
                int start = 0;
                for (int f = 0; f < cuts.Length; f++)
                {
                    if (f > 0)
                    {
                        AddControlFrames();
                    }

                    AddFrame(f == 0 ? opcode : RawWebSocket.OpContinuation, payload.AsSpan(start, cuts[f] - start), fin: f == cuts.Length - 1);
                    start = cuts[f];
                }
            }
        }

        /// <summary>A frame masked with a key from the seeded random (<see cref="RawWebSocket.EncodeFrame"/> draws its own).</summary>
        public void AddFrame(int opcode, ReadOnlySpan<byte> payload, bool fin = true)
        {
            byte[] frame = RawWebSocket.EncodeFrame(opcode, payload, fin);
            int headerLength = frame.Length - payload.Length;
            byte[] key = RandomBytes(4);
            for (int i = 0; i < payload.Length; i++)
            {
                frame[headerLength + i] = (byte)(payload[i] ^ key[i & 3]);
            }

            key.CopyTo(frame, headerLength - 4);
            _frames.Add((frame, headerLength));
        }

        /// <summary>
        /// The frames' bytes as socket reads. A read ends often exactly at a frame's start or at the end
        /// of its header (so that one read is sometimes a header alone) or inside a header, else after
        /// 1 byte, a few bytes, or a chunk of up to 128 KB that may span several frames.
        /// </summary>
        public List<byte[]> CutIntoReads()
        {
            byte[] stream = [.. _frames.SelectMany(frame => frame.Bytes)];
            int[] starts = new int[_frames.Count];
            for (int f = 1; f < starts.Length; f++)
            {
                starts[f] = starts[f - 1] + _frames[f - 1].Bytes.Length;
            }

            int[] boundaries = [.. starts.Concat(starts.Select((start, f) => start + _frames[f].HeaderLength)).Append(stream.Length).Distinct().Order()];
            var reads = new List<byte[]>();
            int position = 0;
            while (position < stream.Length)
            {
                int next = random.Next(20) switch
                {
                    < 8 => FirstAfter(boundaries, position, skip: random.Next(2)),
                    < 11 => InsideNextHeader(starts, position),
                    < 13 => position + 1,
                    < 16 => position + random.Next(2, 64),
                    < 19 => position + (int)Math.Pow(2, 6 + (random.NextDouble() * 8)), // 64 bytes to 16 KB, log-uniform
                    _ => position + random.Next(16 * 1024, 128 * 1024),
                };
                next = Math.Min(next, stream.Length);
                reads.Add(stream[position..next]);
                position = next;
            }

            return reads;
        }

        private static int FirstAfter(int[] sorted, int position, int skip)
        {
            int index = Array.BinarySearch(sorted, position + 1);
            if (index < 0)
            {
                index = ~index;
            }

            return index < sorted.Length ? sorted[Math.Min(index + skip, sorted.Length - 1)] : int.MaxValue;
        }

        /// <summary>A point strictly inside the header of the first frame that starts at or after <paramref name="position"/>.</summary>
        private int InsideNextHeader(int[] starts, int position)
        {
            int index = Array.BinarySearch(starts, position);
            if (index < 0)
            {
                index = ~index;
            }

            if (index == starts.Length)
            {
                return int.MaxValue; // in the last frame's payload: the rest
            }

            return Math.Max(position + 1, starts[index] + random.Next(1, _frames[index].HeaderLength));
        }

        /// <summary>Sometimes a ping (answered) or an unsolicited pong (ignored).</summary>
        private void AddControlFrames()
        {
            if (random.Next(4) == 0)
            {
                byte[] ping = RandomBytes(random.Next(2) == 0 ? random.Next(8) : random.Next(126));
                Pings.Add(ping);
                AddFrame(RawWebSocket.OpPing, ping);
            }

            if (random.Next(10) == 0)
            {
                AddFrame(RawWebSocket.OpPong, RandomBytes(random.Next(126)));
            }
        }

        private byte[] RandomBytes(int length)
        {
            byte[] bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }

        /// <summary>Valid UTF-8 of exactly <paramref name="length"/> bytes, mostly multi-byte characters.</summary>
        private byte[] Utf8Text(int length)
        {
            byte[] text = new byte[length];
            int at = 0;
            while (at < length)
            {
                byte[] character = s_characters[random.Next(s_characters.Length)];
                if (character.Length > length - at)
                {
                    character = s_characters[0];
                }

                character.CopyTo(text, at);
                at += character.Length;
            }

            return text;
        }
    }

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
