using System.Buffers;

namespace CameraRpc.Protocol;

/// <summary>"Grow a rented array": the one place that swaps a pooled array for a larger one.</summary>
/// <remarks>
/// Used by the engine (response buffers, batch bounds), the transport (message assembly, the outbound
/// batch) and the tools; internal to them all (InternalsVisibleTo), not part of the public API.
/// </remarks>
internal static class PooledArrays
{
    /// <summary>
    /// Rents an array of at least <paramref name="size"/> elements, copies the first <paramref name="used"/>
    /// elements of <paramref name="rented"/> into it and returns <paramref name="rented"/> to the pool
    /// (an empty array, which the pool never handed out, is simply dropped).
    /// </summary>
    public static T[] Grow<T>(T[] rented, int used, int size)
    {
        T[] grown = ArrayPool<T>.Shared.Rent(size);
        rented.AsSpan(0, used).CopyTo(grown);
        if (rented.Length > 0)
        {
            ArrayPool<T>.Shared.Return(rented);
        }

        return grown;
    }
}
