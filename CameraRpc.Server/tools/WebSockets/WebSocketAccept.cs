using System.Text;

namespace CameraRpc.Server.Tools.WebSockets;

/// <summary>
/// The <c>Sec-WebSocket-Accept</c> value of RFC 6455 section 4.2.2 (step 5.4): base64 of the SHA-1 of
/// the client's <c>Sec-WebSocket-Key</c> followed by the protocol's GUID. The server writes it in its
/// 101 answer; the tools check it in the answers they get. Both call this one method.
/// </summary>
/// <remarks>
/// The hash is <see cref="Sha1"/>, not <c>System.Security.Cryptography.SHA1</c>: on Linux that is
/// OpenSSL's, and loading it would cost the server 3.7 MiB of resident memory for 60 bytes per handshake.
/// </remarks>
internal static class WebSocketAccept
{
    /// <summary>The GUID every RFC 6455 endpoint appends to the key (section 1.3).</summary>
    public const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>Longest key accepted: a valid one is 24 characters (base64 of 16 bytes).</summary>
    private const int MaxKeyLength = 64;

    /// <summary>The accept value for <paramref name="key"/> (as sent, without surrounding spaces).</summary>
    /// <exception cref="ArgumentException">The key is longer than any valid key or not ASCII.</exception>
    public static string Compute(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length > MaxKeyLength || !Ascii.IsValid(key))
        {
            throw new ArgumentException("A Sec-WebSocket-Key is at most 64 ASCII characters.", nameof(key));
        }

        Span<byte> input = stackalloc byte[MaxKeyLength + Guid.Length];
        int length = Encoding.ASCII.GetBytes(key, input);
        length += Encoding.ASCII.GetBytes(Guid, input[length..]);
        Span<byte> hash = stackalloc byte[Sha1.HashSize];
        Sha1.HashData(input[..length], hash);
        return Convert.ToBase64String(hash);
    }
}
