using System.Net.WebSockets;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Transport;

internal sealed partial class WebSocketConnection
{
    // A plain queue under a lock: the lock is uncontended almost always, and unlike ConcurrentQueue
    // (a 32-slot segment from the start) an empty Queue holds no array, which idle connections feel.
    private readonly Queue<OutboundMessage> _outbound = new();
    private int _writing;          // 1 while one thread is the writer
    private volatile bool _broken; // a send failed: nothing more goes out
    private bool _closeSent;       // only the writer touches it
    private TaskCompletionSource? _flushed;

    // While the read loop works through messages that are already buffered (a pipelining client), the
    // answers wait, so that they leave in one socket write when the loop runs out of input.
    private volatile bool _deferWrites;

    /// <summary>Deferred answers are sent anyway once they add up to this many bytes.</summary>
    private const int DeferredFlushBytes = 64 * 1024;

    /// <inheritdoc />
    public ValueTask SendNotificationAsync(RpcResponseBuffer message, CancellationToken cancellationToken)
    {
        Enqueue(message, WebSocketMessageType.Text);
        return ValueTask.CompletedTask;
    }

    /// <summary>Queues an answer or notification and makes sure a writer sends it; takes ownership of <paramref name="buffer"/>.</summary>
    private void Enqueue(RpcResponseBuffer buffer, WebSocketMessageType type)
    {
        long queued = Interlocked.Add(ref _queuedBytes, buffer.WrittenCount);
        if (queued > _maxQueuedBytes)
        {
            // The client sends but does not read. Its answers cannot be delivered, and a close frame
            // could not reach it either (it would queue behind them): drop the connection.
            Interlocked.Add(ref _queuedBytes, -buffer.WrittenCount);
            RpcResponseBuffer.Return(buffer);
            if (!_broken)
            {
                _broken = true; // once: the answers still coming for this client are dropped quietly
                _log.Warning($"Client {RemoteEndPoint} is not reading its answers ({queued} bytes queued); connection aborted");
            }

            _socket.Abort();
            return;
        }

        EnqueueOutbound(OutboundMessage.Data(buffer, type));
        if (!_deferWrites || queued >= DeferredFlushBytes)
        {
            Write();
        }
    }

    /// <summary>The read loop is about to wait for input: send the answers it held back.</summary>
    private void FlushDeferred()
    {
        _deferWrites = false;
        if (!OutboundIsEmpty)
        {
            Write();
        }
    }

    /// <summary>Queues the close frame; answers queued before it go out first. False if one was already queued.</summary>
    private bool QueueClose(WebSocketCloseStatus status, string description)
    {
        if (Interlocked.Exchange(ref _closeQueued, 1) != 0)
        {
            return false;
        }

        EnqueueOutbound(OutboundMessage.Close(status, description));
        Write();
        return true;
    }

    /// <summary>Completes once everything queued so far has been sent (or dropped, if the connection broke).</summary>
    private Task FlushedAsync()
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _flushed, flushed);
        Write();
        if (OutboundIsEmpty && Volatile.Read(ref _writing) == 0)
        {
            flushed.TrySetResult();
        }

        return flushed.Task;
    }

    /// <summary>
    /// Becomes the writer unless another thread is; the writer sends everything queued. The thread
    /// that completed a call normally writes its answer itself, synchronously, in one socket write with
    /// whatever else is queued: no hand-off to another thread, no task, no allocation. Only a send
    /// that cannot complete at once (the socket buffer is full) continues asynchronously.
    /// </summary>
    private void Write()
    {
        while (Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            ValueTask pending = WriteQueued(out bool finished);
            if (!finished)
            {
                _ = ContinueWritingAsync(pending);
                return;
            }

            Volatile.Write(ref _writing, 0);

            // Something queued between our last look and the release is ours to send too.
            if (OutboundIsEmpty)
            {
                Volatile.Read(ref _flushed)?.TrySetResult();
                return;
            }
        }
    }

    /// <summary>
    /// Sends what is queued as one batch. Returns with <paramref name="finished"/> true when all of it
    /// went out synchronously; otherwise the returned task is the send still in progress.
    /// </summary>
    private ValueTask WriteQueued(out bool finished)
    {
        _stream?.BeginBatch();
        while (TryDequeueOutbound(out OutboundMessage item))
        {
            ValueTask send = Send(item);
            if (!send.IsCompletedSuccessfully)
            {
                finished = false;
                return AfterSendAsync(send, item);
            }

            Release(item);
        }

        ValueTask flush = EndBatch();
        finished = flush.IsCompletedSuccessfully;
        return flush;
    }

    private async Task ContinueWritingAsync(ValueTask pending)
    {
        await pending.ConfigureAwait(false);
        while (true)
        {
            while (!OutboundIsEmpty)
            {
                ValueTask more = WriteQueued(out bool finished);
                if (!finished)
                {
                    await more.ConfigureAwait(false);
                }
            }

            Volatile.Write(ref _writing, 0);
            if (OutboundIsEmpty || Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
            {
                if (OutboundIsEmpty)
                {
                    Volatile.Read(ref _flushed)?.TrySetResult();
                }

                return;
            }
        }
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AfterSendAsync(ValueTask send, OutboundMessage item)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception exception) when (IsConnectionError(exception))
        {
            Break(exception);
        }
        finally
        {
            Release(item);
        }

        await EndBatch().ConfigureAwait(false);
    }

    /// <summary>Sends one item; never throws (a failure marks the connection broken).</summary>
    private ValueTask Send(OutboundMessage item)
    {
        if (_broken || (_closeSent && !item.IsClose))
        {
            return ValueTask.CompletedTask; // nothing may follow a close frame, and nothing reaches a broken peer
        }

        try
        {
            if (item.IsClose)
            {
                _closeSent = true;
                if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    return new ValueTask(_socket.CloseOutputAsync(item.CloseStatus, item.CloseDescription, CancellationToken.None));
                }

                return ValueTask.CompletedTask;
            }

            RpcResponseBuffer buffer = item.Buffer!;
            _log.Sending(RemoteEndPoint, buffer.WrittenSpan);
            if (_countsPayloadBytes)
            {
                _metrics.AddSentBytes(buffer.WrittenCount);
            }

            // Small answers skip the compressor (it would save a few bytes at the price of a fresh zlib
            // state); without permessage-deflate the flag changes nothing.
            WebSocketMessageFlags flags = buffer.WrittenCount < _compressFromBytes
                ? WebSocketMessageFlags.EndOfMessage | WebSocketMessageFlags.DisableCompression
                : WebSocketMessageFlags.EndOfMessage;
            return _socket.SendAsync(buffer.WrittenMemory, item.Type, flags, CancellationToken.None);
        }
        catch (Exception exception) when (IsConnectionError(exception))
        {
            Break(exception);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Sends the batch; never throws.</summary>
    private ValueTask EndBatch()
    {
        if (_stream is null || _broken)
        {
            return ValueTask.CompletedTask;
        }

        try
        {
            ValueTask flush = _stream.EndBatchAsync(CancellationToken.None);
            return flush.IsCompletedSuccessfully ? ValueTask.CompletedTask : ObserveAsync(flush);
        }
        catch (Exception exception) when (IsConnectionError(exception))
        {
            Break(exception);
            return ValueTask.CompletedTask;
        }
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ObserveAsync(ValueTask flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (Exception exception) when (IsConnectionError(exception))
        {
            Break(exception);
        }
    }

    /// <summary>A send failed: the peer is gone. Abort, which wakes the read loop to wind the connection down.</summary>
    private void Break(Exception exception)
    {
        if (!_broken)
        {
            _broken = true;
            _log.Debug($"Sending to {RemoteEndPoint} failed ({exception.GetType().Name}); connection aborted");
        }

        _socket.Abort();
    }

    private void EnqueueOutbound(OutboundMessage item)
    {
        lock (_outbound)
        {
            _outbound.Enqueue(item);
        }
    }

    private bool TryDequeueOutbound(out OutboundMessage item)
    {
        lock (_outbound)
        {
            return _outbound.TryDequeue(out item);
        }
    }

    private bool OutboundIsEmpty
    {
        get
        {
            lock (_outbound)
            {
                return _outbound.Count == 0;
            }
        }
    }

    private static bool IsConnectionError(Exception exception) =>
        exception is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException;

    private void Release(OutboundMessage item)
    {
        if (item.Buffer is { } buffer)
        {
            Interlocked.Add(ref _queuedBytes, -buffer.WrittenCount);
            RpcResponseBuffer.Return(buffer);
        }
    }
}
