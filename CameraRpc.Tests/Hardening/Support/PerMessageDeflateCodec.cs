using System.IO.Compression;

namespace CameraRpc.Tests.Hardening.Support;

/// <summary>
/// permessage-deflate payloads without context takeover (RFC 7692 section 7.2): each message is raw
/// DEFLATE ending in a sync flush whose last four bytes (<c>00 00 ff ff</c>) are left off the wire.
/// </summary>
public static class PerMessageDeflateCodec
{
    private static readonly byte[] s_tail = [0x00, 0x00, 0xff, 0xff];

    /// <summary>One message's payload as a compressing client sends it.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> message, CompressionLevel level = CompressionLevel.Optimal)
    {
        var output = new MemoryStream();
        var deflate = new DeflateStream(output, level, leaveOpen: true);
        deflate.Write(message);
        deflate.Flush(); // a sync flush: the block ends on a byte boundary with 00 00 ff ff
        byte[] bytes = output.ToArray();
        return bytes.AsSpan().EndsWith(s_tail) ? bytes[..^4] : bytes;
    }

    /// <summary>
    /// A deflate stream that inflates to <paramref name="inflatedBytes"/> zero bytes: the "bomb" a
    /// hostile client sends. DEFLATE cannot do better than about 1:1000, so 4 GiB take 4 MiB on the
    /// wire; compressing zeros is quick (about a second per GiB).
    /// </summary>
    public static byte[] Bomb(long inflatedBytes)
    {
        var output = new MemoryStream();
        var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true);
        byte[] zeros = new byte[1024 * 1024];
        for (long written = 0; written < inflatedBytes; written += zeros.Length)
        {
            deflate.Write(zeros, 0, (int)Math.Min(zeros.Length, inflatedBytes - written));
        }

        deflate.Flush();
        byte[] bytes = output.ToArray();
        return bytes.AsSpan().EndsWith(s_tail) ? bytes[..^4] : bytes;
    }

    /// <summary>The message a compressed payload stands for.</summary>
    public static byte[] Inflate(byte[] payload)
    {
        using var input = new MemoryStream([.. payload, .. s_tail]);
        using var inflate = new DeflateStream(input, CompressionMode.Decompress);
        var output = new MemoryStream();
        try
        {
            inflate.CopyTo(output);
        }
        catch (EndOfStreamException)
        {
            // No final block: the stream simply stops after the sync flush, which is how these end.
        }

        return output.ToArray();
    }
}
