using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace CameraRpc.Tests.Hardening.Support;

/// <summary>One frame as read off the wire; <paramref name="Rsv1"/> marks a compressed message (RFC 7692).</summary>
public readonly record struct RawFrame(bool Fin, int Opcode, byte[] Payload, bool Rsv1 = false)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    /// <summary>The close code of a close frame (null when its payload is empty).</summary>
    public int? CloseCode => Opcode == RawWebSocket.OpClose && Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : null;
}

/// <summary>
/// A WebSocket client written on a bare TCP socket, for tests that must send what a well-behaved
/// client never would: any opcode, unmasked frames, reserved bits, bad close payloads, fragments of
/// any size, garbage before or after the handshake.
/// </summary>
/// <remarks>Not thread-safe: one reader and one writer at most, as on a real WebSocket.</remarks>
public sealed class RawWebSocket : IAsyncDisposable
{
    public const int OpContinuation = 0x0;
    public const int OpText = 0x1;
    public const int OpBinary = 0x2;
    public const int OpClose = 0x8;
    public const int OpPing = 0x9;
    public const int OpPong = 0xA;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly byte[] _header = new byte[14];

    private RawWebSocket(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    public Socket Socket => _socket;

    /// <summary>The status code of the handshake answer (101 when upgraded).</summary>
    public int HandshakeStatus { get; private set; }

    /// <summary>The handshake answer's status line and headers.</summary>
    public string HandshakeResponse { get; private set; } = string.Empty;

    /// <summary>The <c>Sec-WebSocket-Extensions</c> value of the handshake answer; null when there was none.</summary>
    public string? AgreedExtensions { get; private set; }

    /// <summary>
    /// True when the server agreed permessage-deflate (it always answers without context takeover):
    /// then <see cref="SendFrameAsync"/> compresses every whole text or binary message it sends, and
    /// <see cref="ReadMessageAsync"/> inflates compressed ones. Fragments and raw bytes go as they are.
    /// </summary>
    public bool PerMessageDeflate => AgreedExtensions?.StartsWith("permessage-deflate", StringComparison.Ordinal) == true;

    /// <summary>A TCP connection to 127.0.0.1:<paramref name="port"/> with nothing sent yet.</summary>
    public static async Task<RawWebSocket> ConnectTcpAsync(int port, CancellationToken cancellationToken, int? receiveBufferSize = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize is { } size)
        {
            socket.ReceiveBufferSize = size; // before connect, so the window is advertised small
        }

        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new RawWebSocket(socket);
    }

    /// <summary>Connects and upgrades; <see cref="HandshakeStatus"/> says whether it worked (101).</summary>
    public static async Task<RawWebSocket> ConnectAsync(
        int port, CancellationToken cancellationToken, string path = "/ws", IEnumerable<string>? extraHeaders = null, int? receiveBufferSize = null)
    {
        RawWebSocket socket = await ConnectTcpAsync(port, cancellationToken, receiveBufferSize);
        var request = new StringBuilder();
        request.Append("GET ").Append(path).Append(" HTTP/1.1\r\n");
        request.Append("Host: 127.0.0.1:").Append(port).Append("\r\n");
        request.Append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
        request.Append("Sec-WebSocket-Key: ").Append(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))).Append("\r\n");
        request.Append("Sec-WebSocket-Version: 13\r\n");
        foreach (string header in extraHeaders ?? [])
        {
            request.Append(header).Append("\r\n");
        }

        request.Append("\r\n");
        await socket.SendRawAsync(Encoding.ASCII.GetBytes(request.ToString()), cancellationToken);
        await socket.ReadHandshakeAsync(cancellationToken);
        return socket;
    }

    /// <summary>The key of RFC 6455's own example (section 1.3), whose accept value is <c>s3pPLMBiTxaQ9kYGzzhZRbK+xOo=</c>.</summary>
    public const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ==";

    /// <summary>The text of an upgrade request for <c>/ws</c>, with the key and version given (for <see cref="HandshakeRawAsync"/>).</summary>
    public static string UpgradeRequest(int port, string key = SampleKey, string version = "13") =>
        $"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n\r\n";

    /// <summary>Sends an upgrade request written by the caller (for malformed ones) and reads the answer's head.</summary>
    public async Task<int> HandshakeRawAsync(string request, CancellationToken cancellationToken)
    {
        await SendRawAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        return await ReadHandshakeAsync(cancellationToken);
    }

    /// <summary>
    /// Reads the HTTP answer's head, byte by byte so that no frame after it is consumed. Returns the
    /// status code, or 0 when the server closed the connection without answering.
    /// </summary>
    public async Task<int> ReadHandshakeAsync(CancellationToken cancellationToken)
    {
        var head = new List<byte>();
        byte[] one = new byte[1];
        try
        {
            while (head.Count < 64 * 1024)
            {
                int read = await _stream.ReadAsync(one, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                head.Add(one[0]);
                if (head.Count >= 4 && head[^1] == '\n' && head[^2] == '\r' && head[^3] == '\n' && head[^4] == '\r')
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // Reset by the server: no answer.
        }

        HandshakeResponse = Encoding.ASCII.GetString(head.ToArray());
        AgreedExtensions = HandshakeResponse.Split("\r\n")
            .FirstOrDefault(line => line.StartsWith("Sec-WebSocket-Extensions:", StringComparison.OrdinalIgnoreCase))?["Sec-WebSocket-Extensions:".Length..].Trim();
        string[] statusLine = HandshakeResponse.Split("\r\n")[0].Split(' ');
        HandshakeStatus = statusLine.Length > 1 && int.TryParse(statusLine[1], out int status) ? status : 0;
        return HandshakeStatus;
    }

    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) =>
        await _stream.WriteAsync(bytes, cancellationToken);

    /// <summary>The bytes of one frame: any opcode, any reserved bits, masked or not.</summary>
    public static byte[] EncodeFrame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, int rsv = 0)
    {
        int headerLength = 2 + (payload.Length < 126 ? 0 : payload.Length <= ushort.MaxValue ? 2 : 8) + (masked ? 4 : 0);
        byte[] frame = new byte[headerLength + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xF));
        int position = 2;
        if (payload.Length < 126)
        {
            frame[1] = (byte)payload.Length;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
            position = 4;
        }
        else
        {
            frame[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
            position = 10;
        }

        if (masked)
        {
            frame[1] |= 0x80;
            Span<byte> mask = frame.AsSpan(position, 4);
            RandomNumberGenerator.Fill(mask);
            position += 4;
            for (int i = 0; i < payload.Length; i++)
            {
                frame[position + i] = (byte)(payload[i] ^ mask[i & 3]);
            }
        }
        else
        {
            payload.CopyTo(frame.AsSpan(position));
        }

        return frame;
    }

    public Task SendFrameAsync(int opcode, ReadOnlySpan<byte> payload, CancellationToken cancellationToken, bool fin = true, bool masked = true, int rsv = 0)
    {
        if (PerMessageDeflate && fin && rsv == 0 && opcode is OpText or OpBinary)
        {
            return SendRawAsync(EncodeFrame(opcode, PerMessageDeflateCodec.Compress(payload), fin, masked, rsv: 4), cancellationToken);
        }

        return SendRawAsync(EncodeFrame(opcode, payload, fin, masked, rsv), cancellationToken);
    }

    public Task SendTextAsync(string text, CancellationToken cancellationToken) =>
        SendFrameAsync(OpText, Encoding.UTF8.GetBytes(text), cancellationToken);

    /// <summary>A close frame with exactly <paramref name="payload"/> (code and reason, or anything else).</summary>
    public Task SendClosePayloadAsync(byte[] payload, CancellationToken cancellationToken) =>
        SendFrameAsync(OpClose, payload, cancellationToken);

    public static byte[] ClosePayload(int code, ReadOnlySpan<byte> reason = default)
    {
        byte[] payload = new byte[2 + reason.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        reason.CopyTo(payload.AsSpan(2));
        return payload;
    }

    /// <summary>The next frame from the server; null when the connection ended (EOF or reset).</summary>
    public async Task<RawFrame?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await ReadExactlyAsync(_header.AsMemory(0, 2), cancellationToken))
            {
                return null;
            }

            bool fin = (_header[0] & 0x80) != 0;
            bool rsv1 = (_header[0] & 0x40) != 0;
            int opcode = _header[0] & 0xF;
            bool masked = (_header[1] & 0x80) != 0;
            long length = _header[1] & 0x7F;
            if (length == 126)
            {
                if (!await ReadExactlyAsync(_header.AsMemory(0, 2), cancellationToken))
                {
                    return null;
                }

                length = BinaryPrimitives.ReadUInt16BigEndian(_header);
            }
            else if (length == 127)
            {
                if (!await ReadExactlyAsync(_header.AsMemory(0, 8), cancellationToken))
                {
                    return null;
                }

                length = (long)BinaryPrimitives.ReadUInt64BigEndian(_header);
            }

            byte[] mask = new byte[4];
            if (masked && !await ReadExactlyAsync(mask, cancellationToken))
            {
                return null;
            }

            byte[] payload = new byte[checked((int)length)];
            if (!await ReadExactlyAsync(payload, cancellationToken))
            {
                return null;
            }

            if (masked)
            {
                for (int i = 0; i < payload.Length; i++)
                {
                    payload[i] ^= mask[i & 3];
                }
            }

            return new RawFrame(fin, opcode, payload, rsv1);
        }
        catch (IOException)
        {
            return null; // reset
        }
    }

    /// <summary>The next whole data message (fragments joined; pings and pongs skipped); null at close or end.</summary>
    public async Task<RawFrame?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        var body = new MemoryStream();
        int opcode = -1;
        bool compressed = false;
        while (await ReadFrameAsync(cancellationToken) is { } frame)
        {
            if (frame.Opcode is OpPing or OpPong)
            {
                continue;
            }

            if (frame.Opcode == OpClose)
            {
                LastClose = frame;
                return null;
            }

            if (opcode < 0)
            {
                opcode = frame.Opcode;
                compressed = frame.Rsv1;
            }

            body.Write(frame.Payload);
            if (frame.Fin)
            {
                return compressed
                    ? new RawFrame(true, opcode, PerMessageDeflateCodec.Inflate(body.ToArray()), Rsv1: true)
                    : new RawFrame(true, opcode, body.ToArray());
            }
        }

        return null;
    }

    /// <summary>The close frame seen by <see cref="ReadMessageAsync"/> or <see cref="ReadCloseCodeAsync"/>, if any.</summary>
    public RawFrame? LastClose { get; private set; }

    /// <summary>
    /// Reads (and discards data) until the server's close frame: its code, or 1006 when the connection
    /// ended without one (the code a browser reports). Answers the close, as a client should.
    /// </summary>
    public async Task<int> ReadCloseCodeAsync(CancellationToken cancellationToken)
    {
        while (await ReadFrameAsync(cancellationToken) is { } frame)
        {
            if (frame.Opcode == OpClose)
            {
                LastClose = frame;
                try
                {
                    await SendFrameAsync(OpClose, frame.Payload.AsSpan(0, Math.Min(2, frame.Payload.Length)), cancellationToken);
                }
                catch (Exception exception) when (exception is IOException or SocketException)
                {
                }

                return frame.CloseCode ?? 1005;
            }
        }

        return 1006;
    }

    /// <summary>True when the server ended the TCP connection (EOF or reset) with nothing more to read.</summary>
    public async Task<bool> ReadToEndAsync(CancellationToken cancellationToken)
    {
        byte[] scratch = new byte[16 * 1024];
        try
        {
            while (await _stream.ReadAsync(scratch, cancellationToken) > 0)
            {
            }
        }
        catch (IOException)
        {
        }

        return true;
    }

    /// <summary>Drops the connection with a RST (linger 0): the peer sees no FIN, no close frame.</summary>
    public void Reset()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }

        _socket.Close();
    }

    private async Task<bool> ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = await _stream.ReadAsync(buffer[total..], cancellationToken);
            if (read == 0)
            {
                return false;
            }

            total += read;
        }

        return true;
    }

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
