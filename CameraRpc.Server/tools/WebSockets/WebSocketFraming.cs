using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

using CameraRpc.Server.Tools.Client;

namespace CameraRpc.Server.Tools.WebSockets;

/// <summary>
/// The client side of RFC 6455 that the load generator needs, over a plain socket: the upgrade
/// request and its check, masked client frames, and parsing of server frames in place.
/// </summary>
/// <remarks>
/// The load generator does its own framing instead of using <see cref="System.Net.WebSockets.ClientWebSocket"/>
/// because ClientWebSocket makes one <c>send()</c> per message: with pipelining, the answers that one
/// <c>recv()</c> brings should be replaced by requests that leave in one <c>send()</c>, or the load
/// generator, not the server, becomes the bottleneck.
/// </remarks>
internal static class WebSocketFraming
{
    /// <summary>Opcodes of RFC 6455 §5.2.</summary>
    public const byte Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA;

    /// <summary>Largest client frame header: 2 bytes, 8 bytes of length, 4 bytes of mask.</summary>
    public const int MaxClientHeader = 14;

    /// <summary>
    /// The upgrade request for <paramref name="url"/> with a fresh random key, and with
    /// <c>Authorization: Bearer TOKEN</c> when <paramref name="authToken"/> is given (already checked by
    /// <see cref="BearerToken.TryParse"/>: printable ASCII, so it cannot end the header early).
    /// </summary>
    public static byte[] BuildUpgradeRequest(Uri url, string? authToken, out string key)
    {
        Span<byte> nonce = stackalloc byte[16];
        RandomNumberGenerator.Fill(nonce);
        key = Convert.ToBase64String(nonce);
        string host = url.IsDefaultPort ? url.Host : $"{url.Host}:{url.Port}";
        string authorization = authToken is null ? "" : $"Authorization: {BearerToken.HeaderValue(authToken)}\r\n";
        return Encoding.ASCII.GetBytes(
            $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{authorization}\r\n");
    }

    /// <summary>The status code of the server's answer head (<c>HTTP/1.1 401 Unauthorized</c> is 401), or 0 when it has none.</summary>
    public static int StatusCode(ReadOnlySpan<byte> head)
    {
        // "HTTP/1.x NNN": the code is the three digits after the first space.
        int space = head.IndexOf((byte)' ');
        return space > 0
            && head.Length >= space + 4
            && int.TryParse(head.Slice(space + 1, 3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int code)
            ? code
            : 0;
    }

    /// <summary>
    /// Checks the server's answer to the upgrade (status 101 and the right <c>Sec-WebSocket-Accept</c>);
    /// null when it is a valid upgrade, otherwise the reason.
    /// </summary>
    public static string? CheckUpgradeResponse(ReadOnlySpan<byte> head, string key)
    {
        string text = Encoding.ASCII.GetString(head);
        string[] lines = text.Split("\r\n");
        if (!lines[0].StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            return $"the server answered '{lines[0]}' instead of upgrading";
        }

        string expected = WebSocketAccept.Compute(key);
        foreach (string line in lines)
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase))
            {
                return line.AsSpan(colon + 1).Trim().SequenceEqual(expected) ? null : "the server's Sec-WebSocket-Accept is wrong";
            }
        }

        return "the server's upgrade has no Sec-WebSocket-Accept";
    }

    /// <summary>
    /// Writes one final, masked client frame carrying <paramref name="payload"/> into <paramref name="destination"/>
    /// (which must have <see cref="MaxClientHeader"/> + payload bytes); returns the bytes written.
    /// </summary>
    public static int WriteClientFrame(Span<byte> destination, byte opcode, ReadOnlySpan<byte> payload, uint maskKey)
    {
        destination[0] = (byte)(0x80 | opcode);
        int header;
        if (payload.Length < 126)
        {
            destination[1] = (byte)(0x80 | payload.Length);
            header = 2;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            destination[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payload.Length);
            header = 4;
        }
        else
        {
            destination[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payload.Length);
            header = 10;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination[header..], maskKey);
        Span<byte> mask = destination.Slice(header, 4);
        Span<byte> body = destination.Slice(header + 4, payload.Length);
        for (int i = 0; i < payload.Length; i++)
        {
            body[i] = (byte)(payload[i] ^ mask[i & 3]);
        }

        return header + 4 + payload.Length;
    }

    /// <summary>
    /// Reads the frame at the start of <paramref name="data"/>. False when more bytes are needed;
    /// otherwise the opcode, FIN bit, payload position and the frame's total size.
    /// </summary>
    /// <exception cref="InvalidDataException">The server masked its frame or announced an absurd length.</exception>
    public static bool TryReadFrame(ReadOnlySpan<byte> data, out byte opcode, out bool fin, out int payloadOffset, out int payloadLength)
    {
        opcode = 0;
        fin = false;
        payloadOffset = 0;
        payloadLength = 0;
        if (data.Length < 2)
        {
            return false;
        }

        fin = (data[0] & 0x80) != 0;
        opcode = (byte)(data[0] & 0x0F);
        if ((data[1] & 0x80) != 0)
        {
            throw new InvalidDataException("the server sent a masked frame");
        }

        ulong length = (ulong)(data[1] & 0x7F);
        int header = 2;
        if (length == 126)
        {
            if (data.Length < 4)
            {
                return false;
            }

            length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            header = 4;
        }
        else if (length == 127)
        {
            if (data.Length < 10)
            {
                return false;
            }

            length = BinaryPrimitives.ReadUInt64BigEndian(data[2..]);
            header = 10;
        }

        if (length > 256 * 1024 * 1024)
        {
            throw new InvalidDataException($"the server announced a frame of {length} bytes");
        }

        payloadOffset = header;
        payloadLength = (int)length;
        return data.Length >= header + payloadLength;
    }
}
