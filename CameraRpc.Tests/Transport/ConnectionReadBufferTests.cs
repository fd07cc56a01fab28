using CameraRpc.Server.Transport;
using CameraRpc.Tests.Transport.Support;

namespace CameraRpc.Tests.Transport;

/// <summary>The read side of a connection over an in-memory wire: how many socket reads serve the WebSocket's reads.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class ConnectionReadBufferTests
{
    [Test]
    public async Task the_websockets_small_reads_are_served_from_one_socket_read()
    {
        var wire = new RecordingStream();
        var socket = new ConnectionSocket(wire);
        using var buffer = new ConnectionReadBuffer(socket);
        wire.Arrive(new byte[100]);

        int header = await buffer.ReadAsync(new byte[2], CancellationToken.None);
        int rest = await buffer.ReadAsync(new byte[98], CancellationToken.None);

        (header, rest).Should().Be((2, 98));
        wire.ReadLengths.Should().HaveCount(1, "one system call for everything that had arrived");
        socket.BytesRead.Should().Be(100);
        buffer.BufferedCount.Should().Be(0);
    }

    [Test]
    public async Task a_connection_that_never_sent_anything_waits_with_a_zero_byte_read()
    {
        var wire = new RecordingStream();
        using var buffer = new ConnectionReadBuffer(new ConnectionSocket(wire));
        wire.Arrive([1, 2, 3]);

        await buffer.ReadAsync(Memory<byte>.Empty, CancellationToken.None);

        wire.ReadLengths.Should().Equal([0], "an idle connection that never talked holds no buffer, not even its own");
        buffer.BufferedCount.Should().Be(0);
    }

    [Test]
    public async Task a_connection_that_has_talked_waits_with_a_real_read_into_its_own_2_KiB_buffer()
    {
        var wire = new RecordingStream();
        var socket = new ConnectionSocket(wire);
        using var buffer = new ConnectionReadBuffer(socket);
        wire.Arrive(new byte[10]);
        await buffer.ReadAsync(new byte[10], CancellationToken.None);
        wire.Arrive([7, 8, 9, 10, 11]);

        int waited = await buffer.ReadAsync(Memory<byte>.Empty, CancellationToken.None);
        byte[] next = new byte[5];
        int read = await buffer.ReadAsync(next, CancellationToken.None);

        waited.Should().Be(0, "a wait completes with 0: data is here");
        wire.ReadLengths.Should().Equal([16 * 1024, 2048], "the wait itself reads the next message: one system call less per message");
        (read, next).Should().BeEquivalentTo((5, new byte[] { 7, 8, 9, 10, 11 }));
        socket.BytesRead.Should().Be(15);
    }

    [Test]
    public async Task the_end_of_the_stream_reads_as_zero()
    {
        var wire = new RecordingStream();
        using var buffer = new ConnectionReadBuffer(new ConnectionSocket(wire));

        int read = await buffer.ReadAsync(new byte[10], CancellationToken.None);

        read.Should().Be(0);
    }
}
