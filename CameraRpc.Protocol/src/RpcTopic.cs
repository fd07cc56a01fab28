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
/// a warm publish allocates nothing per subscriber. Publishing with no subscribers costs a volatile read.</para>
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
    private RpcSubscription[] _subscribers = s_none; // copy on write, under _gate

    /// <param name="current">Gives the current state for a new subscription's event 1; null to send nothing until the next publish.</param>
    public RpcTopic(Func<T>? current = null) => _current = current;

    /// <summary>Subscriptions open on this topic now.</summary>
    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

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
        if (Volatile.Read(ref _subscribers).Length == 0)
        {
            return;
        }

        lock (_gate)
        {
            RpcSubscription[] subscribers = _subscribers;
            if (subscribers.Length == 0)
            {
                return;
            }

            RpcEventPayload payload = Serialize(value);
            try
            {
                foreach (RpcSubscription subscription in subscribers)
                {
                    subscription.Offer(payload);
                }
            }
            finally
            {
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

            var grown = new RpcSubscription[_subscribers.Length + 1];
            _subscribers.CopyTo(grown, 0);
            grown[^1] = subscription;
            Volatile.Write(ref _subscribers, grown);
        }

        return new ValueTask<RpcInvokeResult>(RpcInvokeResult.Success);
    }

    internal override void Close(RpcSubscription subscription)
    {
        lock (_gate)
        {
            int index = Array.IndexOf(_subscribers, subscription);
            if (index < 0)
            {
                return;
            }

            if (_subscribers.Length == 1)
            {
                Volatile.Write(ref _subscribers, s_none);
                return;
            }

            var shrunk = new RpcSubscription[_subscribers.Length - 1];
            Array.Copy(_subscribers, 0, shrunk, 0, index);
            Array.Copy(_subscribers, index + 1, shrunk, index, _subscribers.Length - index - 1);
            Volatile.Write(ref _subscribers, shrunk);
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
