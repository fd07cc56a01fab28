using System.Buffers.Binary;

namespace CameraRpc.Server.Tools.Hashing;

/// <summary>One 64-byte block step of a FIPS 180-4 hash (SHA-1, SHA-256): mixes a block into the state.</summary>
internal interface IBlockCompression
{
    /// <summary>Mixes <paramref name="block"/> into <paramref name="state"/>, using <paramref name="schedule"/> as scratch.</summary>
    static abstract void Compress(Span<uint> state, Span<uint> schedule, ReadOnlySpan<byte> block);
}

/// <summary>
/// What SHA-1 and SHA-256 share (FIPS 180-4, sections 5.1.1 and 6): the message in 64-byte blocks,
/// then the padding (0x80, zeros, the length in bits as a 64-bit big-endian number), then the state
/// written out big-endian. Each hash brings only its initial state and its block step.
/// </summary>
internal static class BlockHash
{
    /// <summary>
    /// Hashes <paramref name="source"/> from the initial <paramref name="state"/> and writes the final
    /// state, big-endian, to the start of <paramref name="destination"/>.
    /// </summary>
    public static void Hash<TCompression>(ReadOnlySpan<byte> source, Span<uint> state, Span<uint> schedule, Span<byte> destination)
        where TCompression : IBlockCompression
    {
        int whole = source.Length - source.Length % 64;
        for (int offset = 0; offset < whole; offset += 64)
        {
            TCompression.Compress(state, schedule, source.Slice(offset, 64));
        }

        // One final block, or two when fewer than 9 bytes are left in the first.
        Span<byte> tail = stackalloc byte[128];
        tail.Clear();
        ReadOnlySpan<byte> rest = source[whole..];
        rest.CopyTo(tail);
        tail[rest.Length] = 0x80;
        int tailLength = rest.Length + 9 <= 64 ? 64 : 128;
        BinaryPrimitives.WriteUInt64BigEndian(tail.Slice(tailLength - 8, 8), (ulong)source.Length * 8);
        for (int offset = 0; offset < tailLength; offset += 64)
        {
            TCompression.Compress(state, schedule, tail.Slice(offset, 64));
        }

        for (int i = 0; i < state.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(i * 4, 4), state[i]);
        }
    }
}
