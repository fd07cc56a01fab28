using CameraRpc.Server.Transport;
using CameraRpc.Tests.Transport.Support;

namespace CameraRpc.Tests.Transport;

/// <summary>The bytes under the WebSocket held for a batch: held while batching, one socket write at the end.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class OutboundBatchTests
{
    [Test]
    public async Task writes_during_a_batch_leave_in_one_socket_write_when_it_ends()
    {
        var wire = new RecordingStream();
        var batch = new OutboundBatch(wire);
        batch.Begin();

        await batch.WriteAsync(new byte[] { 1, 2 }, CancellationToken.None);
        await batch.WriteAsync(new byte[] { 3 }, CancellationToken.None);
        batch.HeldBytes.Should().Be(3);
        wire.Writes.Should().BeEmpty();
        await batch.FlushAsync(CancellationToken.None);

        wire.Writes.Should().ContainSingle().Which.Should().Equal(1, 2, 3);
        batch.HeldBytes.Should().Be(0);
    }

    [Test]
    public async Task a_write_outside_a_batch_such_as_a_pong_goes_out_at_once()
    {
        var wire = new RecordingStream();
        var batch = new OutboundBatch(wire);

        await batch.WriteAsync(new byte[] { 0x8A, 0 }, CancellationToken.None);

        wire.Writes.Should().ContainSingle();
    }

    [Test]
    public async Task bytes_still_held_when_the_connection_closes_are_sent_first()
    {
        var wire = new RecordingStream();
        var batch = new OutboundBatch(wire);
        batch.Begin();
        await batch.WriteAsync(new byte[] { 0x88, 0 }, CancellationToken.None); // the WebSocket's close frame

        batch.FlushOnDispose();

        wire.Writes.Should().ContainSingle().Which.Should().Equal(0x88, 0);
    }
}
