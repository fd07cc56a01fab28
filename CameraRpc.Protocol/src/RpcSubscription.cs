using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;

namespace CameraRpc.Protocol;

/// <summary>Why the server ended a subscription; sent as the <c>end</c> of its last notification (CONTRACT section 6).</summary>
public enum RpcSubscriptionEndReason
{
    /// <summary>The topic's stream ended.</summary>
    Completed,

    /// <summary>The client did not keep up, under the <see cref="RpcOverflow.Close"/> policy.</summary>
    Overflow,

    /// <summary>The server is shutting down.</summary>
    Shutdown,

    /// <summary>The topic threw; the log has it, the client gets nothing of it.</summary>
    Failed,
}

/// <summary>What became of one event offered to a subscription, for <c>camerarpc_events_total{outcome}</c>.</summary>
public enum RpcEventOutcome
{
    /// <summary>Handed to the connection's writer.</summary>
    Sent,

    /// <summary>Pushed out of a full <see cref="RpcOverflow.DropOldest"/> queue.</summary>
    Dropped,

    /// <summary>Replaced, unsent, by a newer value of a <see cref="RpcOverflow.Coalesce"/> topic.</summary>
    Coalesced,
}

/// <summary>
/// One subscription of one connection: a bounded queue of events (the topic's capacity and overflow
/// policy), their <c>seq</c>, and the <c>end</c> notification. The connection's writer pulls its
/// messages with <see cref="TryTakeNext"/> when it is ready to write them, so a client that stops
/// reading holds at most the topic's capacity of events here, and nothing anywhere else.
/// </summary>
/// <remarks>
/// <para><b>Ordering.</b> A new subscription is inactive: events wait in its queue until the transport
/// has queued the subscribe answer (<see cref="RpcResponseBuffer.TakeStartingSubscriptions"/>), and only
/// then is it scheduled on the writer, so the answer is on the wire first. Unsubscribing marks it closed
/// under the same lock the writer takes events under, before the unsubscribe answer is queued: an event
/// taken before that goes out before the answer, none is taken after.</para>
/// <para><b>Thread-safety.</b> Events are offered from any thread; <see cref="TryTakeNext"/> is called by
/// the connection's writer only, one call at a time.</para>
/// </remarks>
public sealed class RpcSubscription
{
    private static ReadOnlySpan<byte> ResultInfix => ",\"result\":"u8;
    private static ReadOnlySpan<byte> EndInfix => ",\"end\":\""u8;

    private readonly Lock _lock = new();
    private readonly RpcSubscriptionRegistry _registry;
    private QueuedEvent[]? _queue; // a ring of Topic.Capacity, made by the first event: an idle subscription holds none
    private CancellationTokenSource? _stream;
    private int _head;
    private int _count;
    private long _produced;     // seq of the last event the topic produced for this subscription
    private bool _active;       // its answer is queued: events may go out
    private bool _scheduled;    // in the writer's queue
    private State _state;
    private RpcSubscriptionEndReason _endReason;

    private enum State
    {
        Open,
        Ending,   // the server ended it; the end notification is still to be taken
        Closed,   // nothing more goes out
    }

    internal RpcSubscription(RpcSubscriptionRegistry registry, RpcTopicInfo topic, string id)
    {
        _registry = registry;
        Topic = topic;
        Id = id;
    }

    /// <summary>The id the client got from <c>rpc.subscribe</c>.</summary>
    public string Id { get; }

    /// <summary>The topic subscribed to.</summary>
    public RpcTopicInfo Topic { get; }

    /// <summary>The connection's context.</summary>
    public RpcContext Context => _registry.Context;

    /// <summary>Free for the transport: its adapter for this subscription, made once when it is first scheduled.</summary>
    public object? TransportState { get; set; }

    /// <summary>Events waiting to be written now.</summary>
    public int QueuedCount
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Cancelled when a per-subscriber stream must stop (default for a fed topic).</summary>
    internal CancellationToken StreamToken => _stream?.Token ?? default;

    /// <summary>Made before a per-subscriber topic's opener runs, so that a close racing with it still cancels the stream.</summary>
    internal CancellationToken CreateStreamToken()
    {
        _stream = new CancellationTokenSource();
        return _stream.Token;
    }

    /// <summary>Where a fed topic keeps this subscription in its list (-1 when not there), so closing it costs no search.</summary>
    internal int TopicSlot { get; set; } = -1;

    /// <summary>Next in a <see cref="RpcStartingSubscriptions"/> list.</summary>
    internal RpcSubscription? NextStarting { get; set; }

    /// <summary>
    /// Called by the connection's writer when this subscription's turn comes: the next message (an
    /// event, or the <c>end</c> notification), which the writer sends and returns to the pool. False when
    /// there is nothing now; the subscription schedules itself again when there is.
    /// </summary>
    public bool TryTakeNext([NotNullWhen(true)] out RpcResponseBuffer? message)
    {
        RpcEventPayload? payload;
        long seq;
        lock (_lock)
        {
            if (_state == State.Closed)
            {
                _scheduled = false;
                message = null;
                return false;
            }

            if (_count > 0)
            {
                (payload, seq) = _queue![_head];
                _queue[_head] = default;
                _head = (_head + 1) % _queue.Length;
                _count--;
            }
            else if (_state == State.Ending)
            {
                _state = State.Closed;
                payload = null;
                seq = _produced + 1;
            }
            else
            {
                _scheduled = false;
                message = null;
                return false;
            }
        }

        message = RpcResponseBuffer.Rent();
        WriteHead(message, seq);
        if (payload is not null)
        {
            message.Write(ResultInfix);
            message.Write(payload.Json);
            payload.Release();
            message.Write("}}"u8);
            _registry.Observer?.OnEvent(Topic, RpcEventOutcome.Sent);
        }
        else
        {
            message.Write(EndInfix);
            message.Write(_endReason switch
            {
                RpcSubscriptionEndReason.Completed => "completed"u8,
                RpcSubscriptionEndReason.Overflow => "overflow"u8,
                RpcSubscriptionEndReason.Shutdown => "shutdown"u8,
                _ => "failed"u8,
            });
            message.Write("\"}}"u8);
        }

        return true;
    }

    /// <summary>The wire spelling of an end reason.</summary>
    public static string EndReasonText(RpcSubscriptionEndReason reason) => reason switch
    {
        RpcSubscriptionEndReason.Completed => "completed",
        RpcSubscriptionEndReason.Overflow => "overflow",
        RpcSubscriptionEndReason.Shutdown => "shutdown",
        _ => "failed",
    };

    /// <summary>Queues one event under the topic's policy; the caller keeps its own reference to <paramref name="payload"/>.</summary>
    internal void Offer(RpcEventPayload payload)
    {
        if (Topic.Overflow != RpcOverflow.Coalesce && Volatile.Read(ref _count) == Topic.Capacity && IsFullAndScheduled())
        {
            // The writer has not got round to this subscription (the publisher only queues): before the
            // policy drops or ends anything, let it send now if it is free. Outside the lock: the writer
            // takes the events through TryTakeNext.
            _registry.Sink.WriteNow(this);
        }

        bool schedule = false;
        bool overflowed = false;
        IRpcSubscriptionObserver? observer = _registry.Observer;
        lock (_lock)
        {
            if (_state != State.Open)
            {
                return;
            }

            _produced++;
            QueuedEvent[] queue = _queue ??= new QueuedEvent[Topic.Capacity];
            int capacity = queue.Length;
            if (_count == capacity)
            {
                switch (Topic.Overflow)
                {
                    case RpcOverflow.Coalesce:
                        // Only the newest unsent value is kept; the gap in seq shows what was replaced.
                        int newest = (_head + _count - 1) % capacity;
                        queue[newest].Payload!.Release();
                        payload.AddReference();
                        queue[newest] = new QueuedEvent(payload, _produced);
                        observer?.OnEvent(Topic, RpcEventOutcome.Coalesced);
                        return;

                    case RpcOverflow.DropOldest:
                        queue[_head].Payload!.Release();
                        queue[_head] = default;
                        _head = (_head + 1) % capacity;
                        _count--;
                        observer?.OnEvent(Topic, RpcEventOutcome.Dropped);
                        break;

                    default:
                        overflowed = true;
                        break;
                }
            }

            if (!overflowed)
            {
                payload.AddReference();
                int tail = (_head + _count) % capacity;
                queue[tail] = new QueuedEvent(payload, _produced);
                _count++;
                if (_active && !_scheduled)
                {
                    _scheduled = schedule = true;
                }
            }
        }

        if (overflowed)
        {
            End(RpcSubscriptionEndReason.Overflow);
        }
        else if (schedule)
        {
            _registry.Sink.Schedule(this);
        }
    }

    private bool IsFullAndScheduled()
    {
        lock (_lock)
        {
            return _state == State.Open && _scheduled && _queue is { } queue && _count == queue.Length;
        }
    }

    /// <summary>
    /// The server ends the subscription: its last notification says <paramref name="reason"/>. Events
    /// already queued still go first, except on <c>overflow</c> and <c>shutdown</c>, where they are
    /// dropped so that the end is the next (and last) thing the client gets. Idempotent.
    /// </summary>
    internal void End(RpcSubscriptionEndReason reason)
    {
        bool schedule = false;
        lock (_lock)
        {
            if (_state != State.Open)
            {
                return;
            }

            _state = State.Ending;
            _endReason = reason;
            if (reason is RpcSubscriptionEndReason.Overflow or RpcSubscriptionEndReason.Shutdown)
            {
                ReleaseQueued();
            }

            if (_active && !_scheduled)
            {
                _scheduled = schedule = true;
            }
        }

        Detach();
        _registry.OnEnded(this, reason);
        if (schedule)
        {
            _registry.Sink.Schedule(this);
        }
    }

    /// <summary>The topic threw: logged, and the subscription ends with <c>failed</c>.</summary>
    internal void Fail(Exception exception)
    {
        _registry.OnFailed(this, exception);
        End(RpcSubscriptionEndReason.Failed);
    }

    /// <summary>
    /// Stops the subscription without another word to the client (unsubscribe, disconnect). True when
    /// it was open, i.e. the server had not ended it.
    /// </summary>
    internal bool Close()
    {
        bool wasOpen;
        lock (_lock)
        {
            if (_state == State.Closed)
            {
                return false;
            }

            wasOpen = _state == State.Open;
            _state = State.Closed;
            ReleaseQueued();
        }

        if (wasOpen)
        {
            Detach();
        }

        return wasOpen;
    }

    /// <summary>Its answer is queued: from now on its events go to the writer.</summary>
    internal void Activate()
    {
        bool schedule = false;
        lock (_lock)
        {
            if (_active)
            {
                return;
            }

            _active = true;
            if ((_count > 0 || _state == State.Ending) && !_scheduled)
            {
                _scheduled = schedule = true;
            }
        }

        if (schedule)
        {
            _registry.Sink.Schedule(this);
        }
    }

    internal void CancelStream()
    {
        try
        {
            _stream?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Detach() => Topic.Source.Close(this);

    private void ReleaseQueued()
    {
        while (_count > 0)
        {
            _queue![_head].Payload!.Release();
            _queue[_head] = default;
            _head = (_head + 1) % _queue.Length;
            _count--;
        }
    }

    private static void WriteNumber(RpcResponseBuffer message, long value)
    {
        Span<byte> span = message.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out int written);
        message.Advance(written);
    }

    /// <summary>Writes <c>{"jsonrpc":"2.0","method":NAME,"params":{"subscription":"ID","seq":N</c>.</summary>
    private void WriteHead(RpcResponseBuffer message, long seq)
    {
        message.Write(Topic.EventPrefix);
        Span<byte> id = stackalloc byte[Id.Length];
        int length = System.Text.Encoding.ASCII.GetBytes(Id, id); // ids are hex digits (RpcSubscriptionRegistry)
        message.Write(id[..length]);
        message.Write("\",\"seq\":"u8);
        WriteNumber(message, seq);
    }

    /// <summary>One queued event: its shared payload and the seq it has for this subscription.</summary>
    private readonly record struct QueuedEvent(RpcEventPayload? Payload, long Seq);
}
