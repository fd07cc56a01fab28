using System.Buffers;
using System.Runtime.CompilerServices;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Transport;

/// <summary>
/// The bytes the WebSocket writes for a batch of outbound messages, held in one pooled buffer so the
/// batch leaves in one socket write. When to start and end a batch is <see cref="OutboundWriter"/>'s
/// decision (its flush policy); this type only holds and writes.
/// </summary>
/// <remarks>
/// Between <see cref="Begin"/> and <see cref="FlushAsync"/> writes are appended; outside a batch
/// (pongs, keep-alive pings written by the WebSocket's receive path) they go out at once, after
/// whatever is held. Writes and flushes are serialised by a lock of their own, because the WebSocket
/// writes control frames from its receive path while the writer writes messages.
/// </remarks>
internal sealed class OutboundBatch
{
    private const int InitialSize = 4096;

    private readonly Stream _inner;
    private readonly ConnectionSocket? _socket;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private byte[]? _buffer;
    private int _count;
    private volatile bool _batching;

    /// <param name="inner">The stream the batches are written to.</param>
    /// <param name="socket">Told about every write (<see cref="ConnectionSocket.CountWritten"/>), when given.</param>
    public OutboundBatch(Stream inner, ConnectionSocket? socket = null)
    {
        _inner = inner;
        _socket = socket;
    }

    /// <summary>Bytes held for the current batch (read by the writer, between its own writes).</summary>
    public int HeldBytes => Volatile.Read(ref _count);

    /// <summary>From now until <see cref="FlushAsync"/>, writes are held and sent together.</summary>
    public void Begin() => _batching = true;

    /// <summary>Ends the batch: sends everything held in one write (synchronously when the socket takes it all at once).</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        _batching = false;
        if (!_lock.Wait(0))
        {
            return FlushSlowAsync(cancellationToken);
        }

        byte[]? buffer = _buffer;
        int count = _count;
        _buffer = null;
        Volatile.Write(ref _count, 0);
        if (buffer is null || count == 0)
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            _lock.Release();
            return ValueTask.CompletedTask;
        }

        ValueTask write;
        try
        {
            write = _inner.WriteAsync(buffer.AsMemory(0, count), cancellationToken);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _lock.Release();
            throw;
        }

        if (!write.IsCompletedSuccessfully)
        {
            return FinishFlushAsync(write, buffer, count);
        }

        _socket?.CountWritten(count);
        ArrayPool<byte>.Shared.Return(buffer);
        _lock.Release();
        return ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FinishFlushAsync(ValueTask write, byte[] buffer, int count)
    {
        try
        {
            await write.ConfigureAwait(false);
            _socket?.CountWritten(count);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _lock.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushSlowAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteHeldAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>The stream's write: appended while batching, else sent at once.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // Uncontended, the lock is taken synchronously and a batched write completes without awaiting.
        Task locked = _lock.WaitAsync(cancellationToken);
        if (locked.IsCompletedSuccessfully && _batching)
        {
            try
            {
                Append(data.Span);
            }
            finally
            {
                _lock.Release();
            }

            return ValueTask.CompletedTask;
        }

        return WriteSlowAsync(locked, data, cancellationToken);
    }

    /// <summary>
    /// Writes one WebSocket frame, its header and its payload: appended while batching, else sent at once.
    /// Both are copied before this returns, so the caller may reuse them whether or not the write completed.
    /// </summary>
    public ValueTask WriteFrameAsync(ReadOnlySpan<byte> header, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (_lock.Wait(0))
        {
            if (_batching)
            {
                try
                {
                    Append(header);
                    Append(payload.Span);
                }
                finally
                {
                    _lock.Release();
                }

                return ValueTask.CompletedTask;
            }

            _lock.Release();
        }

        // Outside a batch (a control frame), or while another write holds the lock: one piece, sent in turn.
        byte[] frame = ArrayPool<byte>.Shared.Rent(header.Length + payload.Length);
        header.CopyTo(frame);
        payload.Span.CopyTo(frame.AsSpan(header.Length));
        return WriteRentedAsync(frame, header.Length + payload.Length, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteRentedAsync(byte[] frame, int length, CancellationToken cancellationToken)
    {
        try
        {
            await WriteAsync(frame.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync(Task locked, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await locked.ConfigureAwait(false);
        try
        {
            if (_batching)
            {
                Append(data.Span);
            }
            else
            {
                // A control frame outside a batch: whatever is held goes first, then this, at once.
                await WriteHeldAsync(cancellationToken).ConfigureAwait(false);
                await _inner.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                _socket?.CountWritten(data.Length);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, InitialSize));
        }
        else if (_buffer.Length - _count < data.Length)
        {
            _buffer = PooledArrays.Grow(_buffer, _count, Math.Max(_buffer.Length * 2, _count + data.Length));
        }

        data.CopyTo(_buffer.AsSpan(_count));
        Volatile.Write(ref _count, _count + data.Length);
    }

    /// <summary>Writes the held bytes; the caller holds the lock.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteHeldAsync(CancellationToken cancellationToken)
    {
        if (_buffer is null)
        {
            return;
        }

        byte[] buffer = _buffer;
        int count = _count;
        _buffer = null;
        Volatile.Write(ref _count, 0);
        try
        {
            if (count > 0)
            {
                await _inner.WriteAsync(buffer.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
                _socket?.CountWritten(count);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Sends what is held, synchronously, before the connection closes: the WebSocket disposes its
    /// stream as soon as the close handshake completes, which can be right after it wrote its close
    /// frame into a batch.
    /// </summary>
    public void FlushOnDispose()
    {
        if (!_lock.Wait(0))
        {
            return; // a write is in progress (stuck on a peer that does not read): nothing more can go out
        }

        try
        {
            if (_buffer is { } buffer && _count > 0)
            {
                _buffer = null;
                int count = _count;
                Volatile.Write(ref _count, 0);
                try
                {
                    _inner.Write(buffer, 0, count);
                    _socket?.CountWritten(count);
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
            _lock.Release();
        }
    }
}
