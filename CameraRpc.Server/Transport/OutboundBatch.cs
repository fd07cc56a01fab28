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
    private readonly SemaphoreSlim _lock = new(1, 1);
    private byte[]? _buffer;
    private int _count;
    private volatile bool _batching;

    public OutboundBatch(Stream inner) => _inner = inner;

    /// <summary>Bytes held for the current batch (read by the writer, between its own writes).</summary>
    public int HeldBytes => Volatile.Read(ref _count);

    /// <summary>From now until <see cref="FlushAsync"/>, writes are held and sent together.</summary>
    public void Begin() => _batching = true;

    /// <summary>Ends the batch: sends everything held in one write.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        _batching = false;
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
