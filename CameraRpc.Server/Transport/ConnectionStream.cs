namespace CameraRpc.Server.Transport;

/// <summary>
/// The stream a taken-over connection's WebSocket runs over: reads come from its
/// <see cref="ConnectionReadBuffer"/>, writes go into its <see cref="OutboundBatch"/>, and disposing it
/// closes the <see cref="ConnectionSocket"/>. Only an adapter; each job is in its own type.
/// </summary>
internal sealed class ConnectionStream : Stream
{
    public ConnectionStream(Stream inner)
    {
        Socket = new ConnectionSocket(inner);
        ReadBuffer = new ConnectionReadBuffer(Socket);
        Batch = new OutboundBatch(inner);
    }

    /// <summary>The TCP connection: byte counter, hang-up probe, ownership.</summary>
    public ConnectionSocket Socket { get; }

    /// <summary>What has been read from the socket and not yet taken by the WebSocket.</summary>
    public ConnectionReadBuffer ReadBuffer { get; }

    /// <summary>Where the WebSocket's writes are held while the connection's writer sends a batch.</summary>
    public OutboundBatch Batch { get; }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ReadBuffer.ReadAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        Batch.WriteAsync(buffer, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => Socket.Stream.FlushAsync(cancellationToken);

    public override void Flush() => Socket.Stream.Flush();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Batch.FlushOnDispose();
            Socket.Dispose();
            ReadBuffer.Dispose();
        }

        base.Dispose(disposing);
    }
}
