using CameraRpc.Server.Metrics;
using CameraRpc.Server.Transport;

namespace CameraRpc.Tests.Transport;

/// <summary>
/// How a compressed connection's bytes reach <c>/metrics</c>: the socket counts what it reads and
/// writes into the server's counters once told to, and not before (the 101 is not a message).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class WireByteCountingTests
{
    [Test]
    [CancelAfter(10_000)]
    public async Task bytes_read_and_written_count_only_after_wire_counting_is_switched_on(CancellationToken cancellationToken)
    {
        var metrics = new ServerMetrics();
        var wire = new MemoryStream();
        await using var stream = new ConnectionStream(wire);

        await stream.WriteAsync(new byte[129], cancellationToken); // the 101, say
        stream.Socket.CountRead(17);
        metrics.SentBytes.Should().Be(0, "nothing counts before the connection is known to be compressed");
        metrics.ReceivedBytes.Should().Be(0);

        stream.Socket.CountWireBytes(metrics);
        await stream.WriteAsync(new byte[10], cancellationToken); // outside a batch: written at once
        stream.Batch.Begin();
        await stream.WriteAsync(new byte[20], cancellationToken);
        await stream.WriteAsync(new byte[30], cancellationToken);
        metrics.SentBytes.Should().Be(10, "a batch counts when it is written, not while it is held");
        await stream.Batch.FlushAsync(cancellationToken);
        stream.Socket.CountRead(5);

        metrics.SentBytes.Should().Be(60, "every byte that reached the socket");
        metrics.ReceivedBytes.Should().Be(5);
        wire.Length.Should().Be(129 + 60);
    }
}
