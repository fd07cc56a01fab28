using System.Net;
using System.Net.Sockets;
using CameraRpc.Server.Transport;

namespace CameraRpc.Tests.Transport;

/// <summary>The TCP connection under a WebSocket, over a real loopback socket pair: ownership, counters, hang-up probe.</summary>
[TestFixture]
[NonParallelizable]
public sealed class ConnectionSocketTests
{
    [Test]
    [CancelAfter(10_000)]
    public async Task a_client_that_hangs_up_is_seen_without_reading_even_with_unread_data_before_its_end(CancellationToken cancellationToken)
    {
        (Socket server, Socket client) = await ConnectedPairAsync(cancellationToken);
        using var socket = new ConnectionSocket(new NetworkStream(server, ownsSocket: false));
        socket.PeerHasHungUp.Should().BeFalse("the client is still there");

        await client.SendAsync(new byte[] { 1, 2, 3 }, cancellationToken);
        client.Close();

        // The FIN arrives asynchronously; the token ends the test if it never does.
        while (!socket.PeerHasHungUp)
        {
            await Task.Delay(5, cancellationToken);
        }

        socket.BytesRead.Should().Be(0, "the probe reads nothing");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task bytes_waiting_in_the_kernel_are_counted_apart_from_bytes_read(CancellationToken cancellationToken)
    {
        (Socket server, Socket client) = await ConnectedPairAsync(cancellationToken);
        using var socket = new ConnectionSocket(new NetworkStream(server, ownsSocket: false));
        using var _ = client;

        await client.SendAsync(new byte[] { 1, 2, 3, 4, 5 }, cancellationToken);
        while (socket.Available < 5)
        {
            await Task.Delay(5, cancellationToken);
        }

        byte[] two = new byte[2];
        int read = await socket.Stream.ReadAsync(two, cancellationToken);
        socket.CountRead(read);

        socket.BytesRead.Should().Be(2);
        socket.Available.Should().Be(3, "what shutdown draining adds to the bytes read to know what the client sent");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task disposing_it_ends_the_tcp_connection_although_the_stream_does_not_own_the_socket(CancellationToken cancellationToken)
    {
        (Socket server, Socket client) = await ConnectedPairAsync(cancellationToken);
        using var _ = client;
        var socket = new ConnectionSocket(new NetworkStream(server, ownsSocket: false));

        socket.Dispose();

        int read = await client.ReceiveAsync(new byte[1], cancellationToken);
        read.Should().Be(0, "the client sees the connection end");
        socket.PeerHasHungUp.Should().BeTrue("a closed socket has nobody at the other end any more");
    }

    private static async Task<(Socket Server, Socket Client)> ConnectedPairAsync(CancellationToken cancellationToken)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!, cancellationToken);
        Socket server = await listener.AcceptAsync(cancellationToken);
        return (server, client);
    }
}
