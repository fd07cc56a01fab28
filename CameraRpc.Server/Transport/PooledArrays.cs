using System.Buffers;

namespace CameraRpc.Server.Transport;

/// <summary>"Grow a rented array": the one place that swaps a pooled array for a larger one.</summary>
internal static class PooledArrays
{
    /// <summary>
    /// Rents an array of at least <paramref name="size"/> bytes, copies the first <paramref name="used"/>
    /// bytes of <paramref name="rented"/> into it and returns <paramref name="rented"/> to the pool.
    /// </summary>
    public static byte[] Grow(byte[] rented, int used, int size)
    {
        byte[] grown = ArrayPool<byte>.Shared.Rent(size);
        rented.AsSpan(0, used).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(rented);
        return grown;
    }
}
