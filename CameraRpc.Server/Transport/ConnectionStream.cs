using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace CameraRpc.Server.Transport;

/// <summary>
/// The upgraded connection's byte stream, with a read buffer and write coalescing in front of the
/// socket: the WebSocket on top reads frame headers a few bytes at a time and writes one frame per
/// message, and without this each of those would be a system call.
/// </summary>
/// <remarks>
/// <para>Reads: one socket read fills a buffer with every frame that has arrived; the WebSocket's
/// small reads are then served from it. Waiting for the next message is a zero-byte read for a
/// connection that has never sent anything (it holds no buffer at all), and a real read into a 2 KiB
/// buffer of its own for one that has (one system call less per message).</para>
/// <para>Writes: between <see cref="BeginBatch"/> and <see cref="EndBatchAsync"/> (the connection's
/// writer draining its queue) writes are appended to a pooled buffer and go out in one socket write.
/// Outside a batch (pongs, keep-alive pings) they go out at once. Writes and flushes are serialised
/// by a lock of their own, because the WebSocket writes control frames from its receive path too.</para>
/// </remarks>
internal sealed class ConnectionStream : Stream, IValueTaskSource<int>
{
    private const int ReadBufferSize = 16 * 1024;
    private const int WriteFlushThreshold = 64 * 1024;
    private const int OwnBufferSize = 2048;

    private readonly Stream _inner;
    private readonly System.Net.Sockets.Socket? _socket;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private byte[]? _readBuffer;     // what is being served: _ownBuffer or a pooled array
    private byte[]? _ownBuffer;      // small, made once the connection has sent something
    private bool _lastReadFilledBuffer;
    private bool _endOfStream;
    private ManualResetValueTaskSourceCore<int> _waitSource = new() { RunContinuationsAsynchronously = false };
    private ValueTask<int> _pendingWait;
    private Action? _onWaitCompleted;
    private int _readOffset;
    private int _readCount;
    private byte[]? _writeBuffer;
    private int _writeCount;
    private volatile bool _batching;
    private long _socketBytesRead;
    private Metrics.ServerMetrics? _wireMetrics;

    public ConnectionStream(Stream inner)
    {
        _inner = inner;

        // HttpListener's stream does not own its socket. Disposing this stream (which is what aborting
        // the WebSocket does) must still end the TCP connection, or an aborted client would linger.
        _socket = (inner as System.Net.Sockets.NetworkStream)?.Socket;
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// From now on, every byte read from or written to the socket is added to <paramref name="metrics"/>'
    /// received and sent counters: for a connection whose messages are compressed, what the link carried.
    /// </summary>
    public void CountWireBytes(Metrics.ServerMetrics metrics) => _wireMetrics = metrics;

    /// <summary>Bytes read from the socket so far.</summary>
    public long SocketBytesRead => Volatile.Read(ref _socketBytesRead);

    /// <summary>Bytes read from the socket that the WebSocket has not taken yet.</summary>
    public int BufferedCount => Volatile.Read(ref _readCount);

    /// <summary>Bytes the kernel has received that nobody has read yet (a system call; for shutdown only).</summary>
    public int SocketAvailable
    {
        get
        {
            try
            {
                return _socket?.Available ?? 0;
            }
            catch (Exception exception) when (exception is System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                return 0;
            }
        }
    }

    /// <summary>True when the client has closed or reset the TCP connection, even with unread data before its end.</summary>
    public bool PeerHasHungUp => _socket is not null && Platform.PeerHangup.HasHungUp(_socket);

    /// <summary>From now until <see cref="EndBatchAsync"/>, writes are held and sent together.</summary>
    public void BeginBatch() => _batching = true;

    /// <summary>Sends everything written since <see cref="BeginBatch"/> in one write.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask EndBatchAsync(CancellationToken cancellationToken)
    {
        _batching = false;
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_readCount > 0)
        {
            return new ValueTask<int>(CopyBuffered(buffer.Span));
        }

        if (_endOfStream)
        {
            return new ValueTask<int>(0);
        }

        if (buffer.Length == 0)
        {
            // Waiting for the next message. A connection that has talked before waits with a real read
            // into its own small buffer: one system call less per message than a zero-byte read, which
            // the socket answers with a peek before the real read. A connection that has never sent
            // anything, or that is receiving more than the small buffer holds per read (a pipelining
            // client, better served by the large pooled reads), waits with a zero-byte read.
            if (_ownBuffer is not null && !_lastReadFilledBuffer)
            {
                return WaitWithOwnBufferAsync(cancellationToken);
            }

            return _inner.ReadAsync(buffer, cancellationToken);
        }

        return buffer.Length >= ReadBufferSize ? ReadDirectAsync(buffer, cancellationToken) : FillAndCopyAsync(buffer, cancellationToken);
    }

    /// <summary>
    /// Waits for the next message with a real read into the connection's own buffer. The wait is the
    /// one operation every message goes through, so it completes through a reusable value-task source
    /// of this stream instead of an async method: a message costs no allocation.
    /// </summary>
    private ValueTask<int> WaitWithOwnBufferAsync(CancellationToken cancellationToken)
    {
        ValueTask<int> read = _inner.ReadAsync(_ownBuffer.AsMemory(), cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            OnOwnBufferFilled(read.Result);
            return new ValueTask<int>(0);
        }

        _pendingWait = read;
        _waitSource.Reset();
        read.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onWaitCompleted ??= OnWaitCompleted);
        return new ValueTask<int>(this, _waitSource.Version);
    }

    private void OnWaitCompleted()
    {
        try
        {
            OnOwnBufferFilled(_pendingWait.GetAwaiter().GetResult());
            _pendingWait = default;
            _waitSource.SetResult(0); // a zero-byte read completes with 0: "data is here"
        }
        catch (Exception exception)
        {
            _pendingWait = default;
            _waitSource.SetException(exception);
        }
    }

    private void OnOwnBufferFilled(int read)
    {
        Interlocked.Add(ref _socketBytesRead, read);
        _wireMetrics?.AddReceivedBytes(read);
        if (read == 0)
        {
            _endOfStream = true; // reported by the next real read
            return;
        }

        _lastReadFilledBuffer = read == _ownBuffer!.Length;
        _readBuffer = _ownBuffer;
        _readOffset = 0;
        Volatile.Write(ref _readCount, read);
    }

    int IValueTaskSource<int>.GetResult(short token) => _waitSource.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _waitSource.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _waitSource.OnCompleted(continuation, state, token, flags);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadDirectAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        int read = await _inner.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _socketBytesRead, read);
        _wireMetrics?.AddReceivedBytes(read);
        return read;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> FillAndCopyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ReadBufferSize);
        int read;
        try
        {
            read = await _inner.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        if (read == 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return 0;
        }

        Interlocked.Add(ref _socketBytesRead, read);
        _wireMetrics?.AddReceivedBytes(read);
        _lastReadFilledBuffer = read == buffer.Length;
        _ownBuffer ??= new byte[OwnBufferSize];
        _readBuffer = buffer;
        _readOffset = 0;
        _readCount = read;
        return CopyBuffered(destination.Span);
    }

    private int CopyBuffered(Span<byte> destination)
    {
        int count = Math.Min(destination.Length, _readCount);
        _readBuffer.AsSpan(_readOffset, count).CopyTo(destination);
        _readOffset += count;
        _readCount -= count;
        if (_readCount == 0)
        {
            // Drained: give a pooled buffer back so that an idle connection holds none.
            if (_readBuffer != _ownBuffer)
            {
                ArrayPool<byte>.Shared.Return(_readBuffer!);
            }

            _readBuffer = null;
            _readOffset = 0;
        }

        return count;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Uncontended, the lock is taken synchronously and a batched write completes without awaiting.
        Task locked = _writeLock.WaitAsync(cancellationToken);
        if (locked.IsCompletedSuccessfully && _batching)
        {
            bool full;
            try
            {
                Append(buffer.Span);
                full = _writeCount >= WriteFlushThreshold;
            }
            catch
            {
                _writeLock.Release();
                throw;
            }

            if (!full)
            {
                _writeLock.Release();
                return ValueTask.CompletedTask;
            }

            return FlushLockedAsync(cancellationToken);
        }

        return WriteSlowAsync(locked, buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushLockedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync(Task locked, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await locked.ConfigureAwait(false);
        try
        {
            if (_batching)
            {
                Append(buffer.Span);
                if (_writeCount >= WriteFlushThreshold)
                {
                    await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                // A control frame outside a batch: whatever is held goes first, then this, at once.
                await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
                await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
                _wireMetrics?.AddSentBytes(buffer.Length);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_writeBuffer is null)
        {
            _writeBuffer = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, 4096));
        }
        else if (_writeBuffer.Length - _writeCount < data.Length)
        {
            byte[] grown = ArrayPool<byte>.Shared.Rent(Math.Max(_writeBuffer.Length * 2, _writeCount + data.Length));
            _writeBuffer.AsSpan(0, _writeCount).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(_writeBuffer);
            _writeBuffer = grown;
        }

        data.CopyTo(_writeBuffer.AsSpan(_writeCount));
        _writeCount += data.Length;
    }

    /// <summary>Writes the held bytes; the caller holds the write lock.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushBufferAsync(CancellationToken cancellationToken)
    {
        if (_writeBuffer is null)
        {
            return;
        }

        byte[] buffer = _writeBuffer;
        int count = _writeCount;
        _writeBuffer = null;
        _writeCount = 0;
        try
        {
            if (count > 0)
            {
                await _inner.WriteAsync(buffer.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
                _wireMetrics?.AddSentBytes(count);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void FlushHeldOnDispose()
    {
        if (!_writeLock.Wait(0))
        {
            return; // a write is in progress (stuck on a peer that does not read): nothing more can go out
        }

        try
        {
            if (_writeBuffer is { } buffer && _writeCount > 0)
            {
                _writeBuffer = null;
                int count = _writeCount;
                _writeCount = 0;
                try
                {
                    _inner.Write(buffer, 0, count);
                    _wireMetrics?.AddSentBytes(count);
                }
                catch (Exception exception) when (exception is IOException or ObjectDisposedException)
                {
                    // The peer is gone.
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Flush() => _inner.Flush();

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
            // The WebSocket disposes its stream as soon as the close handshake completes, which can be
            // right after it wrote its close frame into a batch: send what is held before closing.
            FlushHeldOnDispose();
            _inner.Dispose();
            try
            {
                _socket?.Shutdown(System.Net.Sockets.SocketShutdown.Both);
            }
            catch (Exception exception) when (exception is System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                // Already reset by the peer or closed.
            }

            _socket?.Dispose();
            if (_readBuffer is not null && _readBuffer != _ownBuffer)
            {
                ArrayPool<byte>.Shared.Return(_readBuffer);
                _readBuffer = null;
            }
        }

        base.Dispose(disposing);
    }
}
