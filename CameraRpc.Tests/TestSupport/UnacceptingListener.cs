using System.Net;
using System.Net.Sockets;

namespace CameraRpc.Tests.TestSupport;

/// <summary>
/// A loopback port where a connect neither succeeds nor is refused: it just waits, as with a server that
/// hangs or a firewall that drops packets. The listener never accepts, and its accept queue is full.
/// </summary>
/// <remarks>
/// Linux: with a backlog of 0 the queue holds one connection, and while it is full the kernel drops
/// every further SYN (the client retransmits until its own timeout). The one queued connection is made
/// here, before <see cref="StartAsync"/> returns.
/// </remarks>
public sealed class UnacceptingListener : IDisposable
{
    private readonly Socket _listener;
    private readonly Socket _queued;

    private UnacceptingListener(Socket listener, Socket queued)
    {
        _listener = listener;
        _queued = queued;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public static async Task<UnacceptingListener> StartAsync(CancellationToken cancellationToken)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var queued = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await queued.ConnectAsync(listener.LocalEndPoint!, cancellationToken);
        return new UnacceptingListener(listener, queued);
    }

    public void Dispose()
    {
        _queued.Dispose();
        _listener.Dispose();
    }
}
