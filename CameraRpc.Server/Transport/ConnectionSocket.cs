using System.Net.Sockets;

namespace CameraRpc.Server.Transport;

/// <summary>
/// The TCP connection under an upgraded WebSocket: owns the socket (its disposal ends the connection),
/// counts the bytes read from it, and can ask the kernel whether the client has hung up.
/// </summary>
/// <remarks>
/// HttpListener's stream does not own its socket; after the take-over (<see cref="WebSocketUpgrade"/>)
/// nothing else would close it, so disposing this closes it. Reads go through <see cref="Stream"/>
/// and are reported with <see cref="CountRead"/> by the one reader (<see cref="ConnectionReadBuffer"/>);
/// the counters may be read from any thread (shutdown draining).
/// </remarks>
internal sealed class ConnectionSocket : IDisposable
{
    private readonly Socket? _socket;
    private long _bytesRead;

    public ConnectionSocket(Stream stream)
    {
        Stream = stream;
        _socket = (stream as NetworkStream)?.Socket;
    }

    /// <summary>The connection's raw byte stream.</summary>
    public Stream Stream { get; }

    /// <summary>Bytes read from the socket so far.</summary>
    public long BytesRead => Volatile.Read(ref _bytesRead);

    /// <summary>Bytes the kernel has received that nobody has read yet (a system call; for shutdown only).</summary>
    public int Available
    {
        get
        {
            try
            {
                return _socket?.Available ?? 0;
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                return 0;
            }
        }
    }

    /// <summary>True when the client has closed or reset the TCP connection, even with unread data before its end.</summary>
    public bool PeerHasHungUp => _socket is not null && Platform.PeerHangup.HasHungUp(_socket);

    /// <summary>Adds a read's byte count to <see cref="BytesRead"/>.</summary>
    public void CountRead(int count) => Interlocked.Add(ref _bytesRead, count);

    /// <summary>Closes the stream and the TCP connection.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        try
        {
            _socket?.Shutdown(SocketShutdown.Both);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Already reset by the peer or closed.
        }

        _socket?.Dispose();
    }
}
