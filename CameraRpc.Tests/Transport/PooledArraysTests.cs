using System.Buffers;
using CameraRpc.Protocol;

namespace CameraRpc.Tests.Transport;

/// <summary>The one "grow a rented array" helper.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class PooledArraysTests
{
    [Test]
    public void growing_keeps_the_bytes_in_use_and_gives_at_least_the_size_asked_for()
    {
        byte[] rented = ArrayPool<byte>.Shared.Rent(16);
        "0123456789"u8.CopyTo(rented);

        byte[] grown = PooledArrays.Grow(rented, used: 10, size: 1000);

        grown.Length.Should().BeGreaterThanOrEqualTo(1000);
        grown.AsSpan(0, 10).ToArray().Should().Equal("0123456789"u8.ToArray());
        ArrayPool<byte>.Shared.Return(grown);
    }
}
