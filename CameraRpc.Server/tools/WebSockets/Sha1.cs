using System.Buffers.Binary;
using System.Numerics;
using CameraRpc.Server.Tools.Hashing;

namespace CameraRpc.Server.Tools.WebSockets;

/// <summary>
/// SHA-1 (FIPS 180-4, section 6.1), for the one place CameraRpc needs it: the
/// <c>Sec-WebSocket-Accept</c> value of the WebSocket handshake (RFC 6455 section 4.2.2, <see cref="WebSocketAccept"/>).
/// </summary>
/// <remarks>
/// .NET's own SHA-1 on Linux is OpenSSL's: the first handshake would load libcrypto and libssl,
/// 3.7 MiB of resident memory, to hash 60 bytes once per connection. Nothing here is security
/// sensitive (the accept value only proves the server read the key), so a small managed
/// implementation does. Tests check it against the platform's SHA-1 on many inputs.
/// </remarks>
internal sealed class Sha1 : IBlockCompression
{
    public const int HashSize = 20;

    // Not made: the type is a hash function, and a class (not a static one) so it can name its block step.
    private Sha1()
    {
    }

    /// <summary>Hashes <paramref name="source"/> into the first 20 bytes of <paramref name="destination"/>.</summary>
    public static void HashData(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < HashSize)
        {
            throw new ArgumentException("The destination is shorter than a SHA-1 hash.", nameof(destination));
        }

        Span<uint> state = [0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u];
        Span<uint> schedule = stackalloc uint[80];

        BlockHash.Hash<Sha1>(source, state, schedule, destination);
    }

    /// <inheritdoc/>
    public static void Compress(Span<uint> state, Span<uint> w, ReadOnlySpan<byte> block)
    {
        for (int t = 0; t < 16; t++)
        {
            w[t] = BinaryPrimitives.ReadUInt32BigEndian(block.Slice(t * 4, 4));
        }

        for (int t = 16; t < 80; t++)
        {
            w[t] = BitOperations.RotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        }

        uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
        for (int t = 0; t < 80; t++)
        {
            uint f, k;
            if (t < 20)
            {
                f = (b & c) | (~b & d);
                k = 0x5A827999u;
            }
            else if (t < 40)
            {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1u;
            }
            else if (t < 60)
            {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDCu;
            }
            else
            {
                f = b ^ c ^ d;
                k = 0xCA62C1D6u;
            }

            uint next = BitOperations.RotateLeft(a, 5) + f + e + k + w[t];
            e = d;
            d = c;
            c = BitOperations.RotateLeft(b, 30);
            b = a;
            a = next;
        }

        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
    }
}
