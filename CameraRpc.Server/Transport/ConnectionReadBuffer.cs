using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace CameraRpc.Server.Transport;

/// <summary>
/// The read side of a connection: one socket read fills a buffer with every frame that has arrived,
/// and the WebSocket's small reads (a frame header is a few bytes) are served from it.
/// </summary>
/// <remarks>
/// <para>Waiting for the next message is a zero-byte read for a connection that has never sent
/// anything (it holds no buffer at all), and a real read into a 2 KiB buffer of its own for one that
/// has (one system call less per message). Reads that need more go through a pooled 16 KiB buffer,
/// given back as soon as it is drained, so an idle connection holds no pooled buffer.</para>
/// <para>One reader at a time (the WebSocket's receive); <see cref="BufferedCount"/> may be read from
/// any thread.</para>
/// </remarks>
internal sealed class ConnectionReadBuffer : IValueTaskSource<int>, IThreadPoolWorkItem, IDisposable
{
    private const int PooledBufferSize = 16 * 1024;
    private const int OwnBufferSize = 2048;

    private readonly ConnectionSocket _socket;
    private byte[]? _readBuffer;     // what is being served: _ownBuffer or a pooled array
    private byte[]? _ownBuffer;      // small, made once the connection has sent something
    private bool _lastReadFilledBuffer;
    private bool _endOfStream;
    private ManualResetValueTaskSourceCore<int> _waitSource = new() { RunContinuationsAsynchronously = false };
    private ValueTask<int> _pendingWait;
    private CancellationToken _waitToken;
    private Action? _onWaitCompleted;
    private int _readOffset;
    private int _readCount;

    public ConnectionReadBuffer(ConnectionSocket socket) => _socket = socket;

    /// <summary>Bytes read from the socket that the WebSocket has not taken yet.</summary>
    public int BufferedCount => Volatile.Read(ref _readCount);

    /// <summary>Reads like <see cref="Stream.ReadAsync(Memory{byte}, CancellationToken)"/>; a zero-length read waits for data.</summary>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
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

            return _socket.Stream.ReadAsync(buffer, cancellationToken);
        }

        return buffer.Length >= PooledBufferSize ? ReadDirectAsync(buffer, cancellationToken) : FillAndCopyAsync(buffer, cancellationToken);
    }

    /// <summary>
    /// Waits for the next message with a real read into the connection's own buffer. The wait is the
    /// one operation every message goes through, so it completes through this reusable value-task
    /// source instead of an async method: a message costs no allocation.
    /// </summary>
    /// <remarks>
    /// The read is not posted at once but queued behind the work the thread pool already has (the
    /// socket events of the same wake-up, other connections' messages). Posted at once, right after the
    /// answer to the last message, it would find nothing nearly every time: the client has not had the
    /// answer yet. That costs a system call that fails (EAGAIN) before the socket engine waits for the
    /// data. Queued, under load it usually finds the next message already there and completes at once;
    /// idle, it runs immediately and waits as before. The connection still holds only its own buffer.
    /// </remarks>
    private ValueTask<int> WaitWithOwnBufferAsync(CancellationToken cancellationToken)
    {
        _waitSource.Reset();
        _waitToken = cancellationToken;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        return new ValueTask<int>(this, _waitSource.Version);
    }

    /// <summary>Posts the queued read of <see cref="WaitWithOwnBufferAsync"/>.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        try
        {
            _pendingWait = _socket.Stream.ReadAsync(_ownBuffer.AsMemory(), _waitToken);
        }
        catch (Exception exception)
        {
            _waitSource.SetException(exception);
            return;
        }

        if (_pendingWait.IsCompleted)
        {
            OnWaitCompleted(); // the message is here: it is read and served on this thread, now
            return;
        }

        _pendingWait.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onWaitCompleted ??= OnWaitCompleted);
    }

    private void OnWaitCompleted()
    {
        int read;
        try
        {
            read = _pendingWait.GetAwaiter().GetResult();
        }
        catch (Exception exception)
        {
            _pendingWait = default;
            _waitSource.SetException(exception);
            return;
        }

        _pendingWait = default;
        OnOwnBufferFilled(read);

        // Outside the try: the continuation runs inside SetResult, and what it throws is its own to
        // handle; caught here, it would complete the wait a second time.
        _waitSource.SetResult(0); // a zero-byte read completes with 0: "data is here"
    }

    private void OnOwnBufferFilled(int read)
    {
        _socket.CountRead(read);
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
        int read = await _socket.Stream.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
        _socket.CountRead(read);
        return read;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> FillAndCopyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(PooledBufferSize);
        int read;
        try
        {
            read = await _socket.Stream.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
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

        _socket.CountRead(read);
        _lastReadFilledBuffer = read == buffer.Length;
        _ownBuffer ??= new byte[OwnBufferSize];
        _readBuffer = buffer;
        _readOffset = 0;
        _readCount = read;
        return CopyBuffered(destination.Span);
    }

    /// <summary>The bytes read and not taken yet, to parse in place; <see cref="Consume"/> takes them.</summary>
    public ReadOnlySpan<byte> Buffered => _readCount == 0 ? default : _readBuffer.AsSpan(_readOffset, _readCount);

    private int CopyBuffered(Span<byte> destination)
    {
        int count = Math.Min(destination.Length, _readCount);
        _readBuffer.AsSpan(_readOffset, count).CopyTo(destination);
        Consume(count);
        return count;
    }

    /// <summary>Takes <paramref name="count"/> of the <see cref="Buffered"/> bytes.</summary>
    public void Consume(int count)
    {
        if (count == 0)
        {
            return; // a zero-length take (the read loop's wait, right after a header): the buffer may already be drained and given back
        }

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
    }

    /// <summary>Gives a pooled buffer still held back to the pool.</summary>
    public void Dispose()
    {
        if (_readBuffer is not null && _readBuffer != _ownBuffer)
        {
            ArrayPool<byte>.Shared.Return(_readBuffer);
            _readBuffer = null;
        }
    }
}
