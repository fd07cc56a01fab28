using CameraRpc.Server.Transport;
using CameraRpc.Tests.Transport.Support;

namespace CameraRpc.Tests.Transport;

/// <summary>The stream a WebSocket runs over: reads from the read buffer, writes into the batch, disposal ends the connection.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class ConnectionStreamTests
{
    [Test]
    public async Task reads_are_served_by_the_read_buffer_and_counted_on_the_socket()
    {
        var wire = new RecordingStream();
        using var stream = new ConnectionStream(wire);
        wire.Arrive([1, 2, 3, 4]);

        int read = await stream.ReadAsync(new byte[2]);

        read.Should().Be(2);
        stream.ReadBuffer.BufferedCount.Should().Be(2);
        stream.Socket.BytesRead.Should().Be(4);
    }

    [Test]
    public async Task disposing_it_sends_what_the_batch_holds_and_then_closes_the_connection()
    {
        var wire = new RecordingStream();
        var stream = new ConnectionStream(wire);
        stream.Batch.Begin();
        await stream.WriteAsync(new byte[] { 0x88, 0 }); // a close frame written just before the WebSocket disposes its stream

        await stream.DisposeAsync();

        wire.Writes.Should().ContainSingle().Which.Should().Equal(0x88, 0);
        wire.IsDisposed.Should().BeTrue();
    }
}
