using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// A fed topic: code anywhere calls <see cref="Publish"/>, and every subscription of the topic gets
/// the value. Declare it as a static field or property with <c>[RpcTopic("name")]</c>; the source
/// generator binds it to the topic's table entry and to the serializer of <typeparamref name="T"/>
/// (the same one a method returning <typeparamref name="T"/> would use).
/// </summary>
/// <remarks>
/// <para>The value is serialized once per publish and the same bytes are queued to every subscriber;
/// a warm publish allocates nothing per subscriber. Publishing with no subscribers costs a volatile read.
/// Publishing queues: each connection's writer sends, on the thread pool, so a publisher does not pay
/// a socket write per subscriber. Only a subscription already full before its writer's turn has the
/// publisher write that connection's queue first (a write that never waits for the socket), rather
/// than drop events its client would read.</para>
/// <para>With <c>current</c>, each new subscription gets the topic's current state at once, as its
/// event 1 (what a <see cref="RpcOverflow.Coalesce"/> state topic wants). Publishes and new
/// subscriptions are serialized with each other, so a subscriber never sees a state older than its
/// event 1 after it.</para>
/// <para>Thread-safe: publish from any thread. One topic instance serves every server in the process.</para>
/// </remarks>
/// <typeparam name="T">The event value's type.</typeparam>
public sealed class RpcTopic<T> : RpcTopicSource
{
    private static readonly RpcSubscription[] s_none = [];

    private readonly Func<T>? _current;
    private readonly Lock _gate = new();
    private Action<Utf8JsonWriter, T>? _write;
    private RpcSubscription[] _subscribers = s_none; // the first _count are open; under _gate
    private int _count;
    private bool _publishing; // Publish is walking _subscribers: a close from inside it (an overflow) copies the list first

    /// <param name="current">Gives the current state for a new subscription's event 1; null to send nothing until the next publish.</param>
    public RpcTopic(Func<T>? current = null) => _current = current;

    /// <summary>Subscriptions open on this topic now.</summary>
    public int SubscriberCount => Volatile.Read(ref _count);

    /// <summary>Used by generated code: how a value of <typeparamref name="T"/> is written.</summary>
    public RpcTopic<T> Bind(Action<Utf8JsonWriter, T> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        _write = write;
        return this;
    }

    /// <summary>Sends <paramref name="value"/> to every subscription of the topic (serialized once).</summary>
    public void Publish(T value)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return;
        }

        lock (_gate)
        {
            RpcSubscription[] subscribers = _subscribers;
            int count = _count;
            if (count == 0)
            {
                return;
            }

            RpcEventPayload payload = Serialize(value);
            _publishing = true;
            try
            {
                for (int i = 0; i < count; i++)
                {
                    subscribers[i].Offer(payload);
                }
            }
            finally
            {
                _publishing = false;
                payload.Release();
            }
        }
    }

    internal override ValueTask<RpcInvokeResult> OpenAsync(RpcSubscription subscription, RpcInvocation invocation)
    {
        // A fed topic has no params: absent, [] and {} are fine, anything given is "unexpected".
        var reader = new RpcParamsReader(in invocation);
        if (reader.MoveNext([], out _))
        {
            return new ValueTask<RpcInvokeResult>(RpcInvokeResult.InvalidParams(reader.UnexpectedName!, RpcParamFailure.Unexpected));
        }

        lock (_gate)
        {
            if (_current is not null)
            {
                RpcEventPayload payload = Serialize(_current());
                subscription.Offer(payload);
                payload.Release();
            }

            // The list grows by doubling: subscribing N clients copies O(N) references, not O(N^2).
            if (_count == _subscribers.Length)
            {
                Array.Resize(ref _subscribers, Math.Max(4, _subscribers.Length * 2));
            }

            subscription.TopicSlot = _count;
            _subscribers[_count] = subscription;
            Volatile.Write(ref _count, _count + 1);
        }

        return new ValueTask<RpcInvokeResult>(RpcInvokeResult.Success);
    }

    internal override void Close(RpcSubscription subscription)
    {
        lock (_gate)
        {
            int index = subscription.TopicSlot;
            if (index < 0 || index >= _count || !ReferenceEquals(_subscribers[index], subscription))
            {
                return;
            }

            if (_publishing)
            {
                // The publish walking the list keeps the old array; the closed subscription ignores its offer.
                _subscribers = (RpcSubscription[])_subscribers.Clone();
            }

            // The last subscription takes the closed one's slot.
            int last = _count - 1;
            RpcSubscription moved = _subscribers[last];
            _subscribers[index] = moved;
            moved.TopicSlot = index;
            _subscribers[last] = null!;
            subscription.TopicSlot = -1;
            Volatile.Write(ref _count, last);

            // Give the memory back once most subscribers have gone.
            if (last == 0)
            {
                _subscribers = s_none;
            }
            else if (_subscribers.Length > 16 && last <= _subscribers.Length / 4)
            {
                Array.Resize(ref _subscribers, _subscribers.Length / 2);
            }
        }
    }

    private RpcEventPayload Serialize(T value)
    {
        Action<Utf8JsonWriter, T> write = _write
            ?? throw new InvalidOperationException("This RpcTopic is not bound to a topic: declare it with [RpcTopic(\"name\")] on a static field or property.");
        RpcEventPayload payload = RpcEventPayload.Rent(out Utf8JsonWriter json);
        try
        {
            write(json, value);
            json.Flush();
        }
        catch
        {
            json.Reset();
            payload.Release();
            throw;
        }

        return payload;
    }
}
