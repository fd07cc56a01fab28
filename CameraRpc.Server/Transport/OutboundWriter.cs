using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using CameraRpc.Protocol;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Metrics;

namespace CameraRpc.Server.Transport;

/// <summary>
/// Everything a connection sends goes through here: answers, notifications and pushed events from
/// any thread, messages pulled from scheduled <see cref="IOutboundSource"/>s, and finally the close
/// frame. One queue, one writer at a time, and the connection's one flush policy.
/// </summary>
/// <remarks>
/// <para><b>Thread-safety.</b> <see cref="Enqueue"/>, <see cref="Schedule"/>,
/// <see cref="EnqueueClose"/> and <see cref="FlushedAsync"/> may be called from any thread at any
/// time; they never throw and never block on the network. <see cref="DeferWhileReading"/> and
/// <see cref="FlushDeferred"/> belong to the connection's read loop.</para>
/// <para><b>Single writer.</b> Whichever thread finds no writer active becomes the writer and sends
/// the whole queue: the thread that completed a call normally writes its answer itself,
/// synchronously, with whatever else is queued: no hand-off, no task, no allocation. Only a send
/// that cannot complete at once (the socket buffer is full) continues asynchronously.</para>
/// <para><b>Scheduled sources are written on the thread pool</b>, never by the thread that scheduled
/// them. That thread is a publisher offering one event to every subscriber of a topic: written there,
/// each offer would be a socket write, so a camera's capture loop would pay a system call per
/// subscriber per event, and no subscriber would ever have two events to send in one write. Handed
/// off (this object is the work item, queued at most once at a time), the publisher only queues, and
/// the writer that runs takes every event its sources gathered meanwhile into one write. Only when a
/// source is full before its turn came does the publisher write (<see cref="WriteNow"/>), so that a
/// subscriber whose client reads loses nothing to scheduling.</para>
/// <para><b>Ordering.</b> Items go out in queue order: a message enqueued before another (from the
/// same thread, or ordered by any other happens-before) goes out before it. A scheduled source is
/// pulled when its turn comes, one message per turn, and then goes to the back of the queue. The
/// close frame is the last thing sent; anything queued after it is dropped.</para>
/// <para><b>Flush policy</b> (the one place it lives). A batch starts when the writer starts and
/// leaves in one socket write when the queue is empty, or earlier once
/// <see cref="FlushThresholdBytes"/> are held. While the read loop still has buffered input to read
/// (<see cref="DeferWhileReading"/>), answers wait for it to run out, unless
/// <see cref="FlushThresholdBytes"/> are queued: a pipelining client gets its answers in one write.</para>
/// <para><b>Limits and failures.</b> Finished messages count against <c>maxQueuedBytes</c>; past it
/// the client is not reading, and the connection is aborted (a close frame could not reach it, it
/// would queue behind the answers). Sources are bounded by themselves. A failed send marks the
/// connection broken and aborts it; from then on messages are dropped (returned to the pool) without
/// an exception.</para>
/// <para><b>Compression.</b> Messages shorter than <c>compressFromBytes</c> are sent with
/// <see cref="WebSocketMessageFlags.DisableCompression"/>; it matters only when the WebSocket
/// negotiated permessage-deflate. The default, <see cref="int.MaxValue"/>, never compresses.</para>
/// </remarks>
internal sealed class OutboundWriter : IThreadPoolWorkItem
{
    /// <summary>Bytes held (in a batch) or deferred (queued while the read loop reads) before a socket write starts anyway.</summary>
    public const int FlushThresholdBytes = 64 * 1024;

    // A plain queue under a lock: the lock is uncontended almost always, and unlike ConcurrentQueue
    // (a 32-slot segment from the start) an empty Queue holds no array, which idle connections feel.
    private readonly Queue<OutboundMessage> _queue = new();
    private readonly WebSocket _socket;
    private readonly OutboundBatch? _batch;
    private readonly ServerLog _log;
    private readonly ServerMetrics _metrics;
    private readonly string _remoteEndPoint;
    private readonly long _maxQueuedBytes;
    private readonly int _compressFromBytes;
    private readonly bool _countsMessageBytes;

    private long _queuedBytes;
    private int _writing;          // 1 while one thread is the writer
    private int _closeQueued;
    private int _handedOff;        // 1 while this writer waits on the thread pool to write for a scheduled source
    private volatile bool _broken; // a send failed: nothing more goes out
    private volatile bool _deferring;
    private bool _closeSent;       // only the writer touches it
    private TaskCompletionSource? _flushed;

    /// <param name="socket">The WebSocket messages are sent on; aborted when the client stops reading or a send fails.</param>
    /// <param name="batch">The connection's write buffer under the WebSocket (null when it has none: every send is its own write).</param>
    /// <param name="maxQueuedBytes">Bytes of finished messages that may wait before the client counts as not reading.</param>
    /// <param name="compressFromBytes">The smallest message that may be compressed; <see cref="int.MaxValue"/>: none.</param>
    /// <param name="countsMessageBytes">Whether each message's bytes go to the sent-bytes counter; false when the socket counts what it writes instead (a compressed connection).</param>
    public OutboundWriter(
        WebSocket socket, OutboundBatch? batch, ServerLog log, ServerMetrics metrics, string remoteEndPoint, long maxQueuedBytes,
        int compressFromBytes = int.MaxValue, bool countsMessageBytes = true)
    {
        _socket = socket;
        _batch = batch;
        _log = log;
        _metrics = metrics;
        _remoteEndPoint = remoteEndPoint;
        _maxQueuedBytes = maxQueuedBytes;
        _compressFromBytes = compressFromBytes;
        _countsMessageBytes = countsMessageBytes;
    }

    /// <summary>Queues a finished message and makes sure a writer sends it; takes ownership of <paramref name="message"/>.</summary>
    public void Enqueue(RpcResponseBuffer message, WebSocketMessageType type)
    {
        long queued = Interlocked.Add(ref _queuedBytes, message.WrittenCount);
        if (queued > _maxQueuedBytes)
        {
            // The client sends but does not read. Its answers cannot be delivered, and a close frame
            // could not reach it either (it would queue behind them): drop the connection.
            Interlocked.Add(ref _queuedBytes, -message.WrittenCount);
            RpcResponseBuffer.Return(message);
            if (!_broken)
            {
                _broken = true; // once: the answers still coming for this client are dropped quietly
                _log.ClientNotReading(_remoteEndPoint, queued);
            }

            _socket.Abort();
            return;
        }

        Add(OutboundMessage.Data(message, type));
        if (!_deferring || queued >= FlushThresholdBytes)
        {
            Write();
        }
    }

    /// <summary>
    /// Puts <paramref name="source"/> in line: the writer calls its <see cref="IOutboundSource.TryTakeNext"/>
    /// when its turn comes. Call it when the source has a message and is not already scheduled.
    /// </summary>
    public void Schedule(IOutboundSource source)
    {
        Add(OutboundMessage.Pull(source));

        // An active writer looks at the queue again before it lets go (see Write), and a deferring read
        // loop flushes before it waits: either sends the source. Otherwise the pool does (see remarks).
        if (!_deferring && Volatile.Read(ref _writing) == 0 && Interlocked.Exchange(ref _handedOff, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>
    /// Sends what is queued on the calling thread unless a writer is busy (then it sends it). For a
    /// publisher whose event would overflow a source that waits for the hand-off of <see cref="Schedule"/>.
    /// </summary>
    public void WriteNow() => Write();

    /// <summary>The hand-off of <see cref="Schedule"/>: writes what the sources scheduled meanwhile have.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        Volatile.Write(ref _handedOff, 0);
        Write();
    }

    /// <summary>Queues the close frame; everything queued before it goes out first. False if one was already queued.</summary>
    public bool EnqueueClose(WebSocketCloseStatus status, string description)
    {
        if (Interlocked.Exchange(ref _closeQueued, 1) != 0)
        {
            return false;
        }

        Add(OutboundMessage.Close(status, description));
        Write();
        return true;
    }

    /// <summary>The read loop has more buffered input to read: answers wait (see the flush policy).</summary>
    public void DeferWhileReading() => _deferring = true;

    /// <summary>The read loop is about to wait for input: send what it held back.</summary>
    public void FlushDeferred()
    {
        _deferring = false;
        if (!IsEmpty)
        {
            Write();
        }
    }

    /// <summary>Completes once everything queued so far has been sent (or dropped, if the connection broke).</summary>
    public Task FlushedAsync()
    {
        _deferring = false;
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _flushed, flushed);
        Write();
        if (IsEmpty && Volatile.Read(ref _writing) == 0)
        {
            flushed.TrySetResult();
        }

        return flushed.Task;
    }

    /// <summary>Becomes the writer unless another thread is; the writer sends everything queued.</summary>
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
            if (IsEmpty)
            {
                Volatile.Read(ref _flushed)?.TrySetResult();
                return;
            }
        }
    }

    /// <summary>
    /// Sends what is queued as one batch (or several, past the threshold). Returns with
    /// <paramref name="finished"/> true when all of it went out synchronously; otherwise the returned
    /// task is the write still in progress, after which the queue is looked at again.
    /// </summary>
    private ValueTask WriteQueued(out bool finished)
    {
        _batch?.Begin();
        while (TryTake(out OutboundMessage item))
        {
            ValueTask send = Send(item);
            if (!send.IsCompletedSuccessfully)
            {
                finished = false;
                return AfterSendAsync(send, item);
            }

            Release(item);
            if (_batch is not null && _batch.HeldBytes >= FlushThresholdBytes)
            {
                ValueTask early = EndBatch();
                if (!early.IsCompletedSuccessfully)
                {
                    finished = false;
                    return early;
                }

                _batch.Begin();
            }
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
            while (!IsEmpty)
            {
                ValueTask more = WriteQueued(out bool finished);
                if (!finished)
                {
                    await more.ConfigureAwait(false);
                }
            }

            Volatile.Write(ref _writing, 0);
            if (IsEmpty || Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
            {
                if (IsEmpty)
                {
                    Volatile.Read(ref _flushed)?.TrySetResult();
                }

                return;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
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
            if (item.Counted)
            {
                // Messages pulled from a source (subscription events) are logged by their source, at
                // debug: they can be thousands a second (CONTRACT section 6).
                _log.Sending(_remoteEndPoint, buffer.WrittenSpan);
            }

            if (_countsMessageBytes)
            {
                _metrics.AddSentBytes(buffer.WrittenCount);
            }

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
        if (_batch is null || _broken)
        {
            return ValueTask.CompletedTask;
        }

        try
        {
            ValueTask flush = _batch.FlushAsync(CancellationToken.None);
            return flush.IsCompletedSuccessfully ? ValueTask.CompletedTask : ObserveAsync(flush);
        }
        catch (Exception exception) when (IsConnectionError(exception))
        {
            Break(exception);
            return ValueTask.CompletedTask;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
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
            _log.SendFailed(_remoteEndPoint, exception);
        }

        _socket.Abort();
    }

    private void Add(OutboundMessage item)
    {
        lock (_queue)
        {
            _queue.Enqueue(item);
        }
    }

    /// <summary>
    /// The next item to send. A scheduled source is asked for its next message here, when the writer is
    /// ready for it, and goes to the back of the queue if it had one.
    /// </summary>
    private bool TryTake(out OutboundMessage item)
    {
        while (true)
        {
            lock (_queue)
            {
                if (!_queue.TryDequeue(out item))
                {
                    return false;
                }
            }

            if (item.Kind != OutboundKind.Pull)
            {
                return true;
            }

            if (_broken || _closeSent)
            {
                continue; // nothing more goes out: the source is not asked
            }

            IOutboundSource source = item.Source!;
            if (source.TryTakeNext(out RpcResponseBuffer? message))
            {
                Add(item); // its next turn
                item = OutboundMessage.Pulled(message);
                return true;
            }
        }
    }

    private bool IsEmpty
    {
        get
        {
            lock (_queue)
            {
                return _queue.Count == 0;
            }
        }
    }

    private static bool IsConnectionError(Exception exception) =>
        exception is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException;

    private void Release(OutboundMessage item)
    {
        if (item.Buffer is { } buffer)
        {
            if (item.Counted)
            {
                Interlocked.Add(ref _queuedBytes, -buffer.WrittenCount);
            }

            RpcResponseBuffer.Return(buffer);
        }
    }
}
