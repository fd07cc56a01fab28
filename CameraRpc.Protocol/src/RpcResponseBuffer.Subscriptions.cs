namespace CameraRpc.Protocol;

public sealed partial class RpcResponseBuffer
{
    private RpcSubscription? _starting;

    /// <summary>
    /// The subscriptions whose ids this answer carries. Take them just before handing the answer to the
    /// connection's writer and <see cref="RpcStartingSubscriptions.Start"/> them just after: their events
    /// then queue behind the answer, so the client has the id before event 1 (CONTRACT section 6).
    /// </summary>
    public RpcStartingSubscriptions TakeStartingSubscriptions()
    {
        RpcSubscription? first = _starting;
        _starting = null;
        return new RpcStartingSubscriptions(first);
    }

    /// <summary>Holds <paramref name="subscription"/> back until this answer is queued.</summary>
    internal void HoldUntilQueued(RpcSubscription subscription)
    {
        subscription.NextStarting = _starting;
        _starting = subscription;
    }

    /// <summary>A batch element's answer is copied into the batch's: its held subscriptions move with it.</summary>
    internal void HoldAllOf(RpcResponseBuffer element)
    {
        RpcSubscription? next = element._starting;
        element._starting = null;
        while (next is not null)
        {
            RpcSubscription current = next;
            next = current.NextStarting;
            HoldUntilQueued(current);
        }
    }
}

/// <summary>The subscriptions an answer carries the ids of, taken from it with <see cref="RpcResponseBuffer.TakeStartingSubscriptions"/>.</summary>
public readonly struct RpcStartingSubscriptions
{
    private readonly RpcSubscription? _first;

    internal RpcStartingSubscriptions(RpcSubscription? first) => _first = first;

    /// <summary>True when there are none (the common case: an answer that is not to <c>rpc.subscribe</c>).</summary>
    public bool IsEmpty => _first is null;

    /// <summary>Lets their events flow: call it once the answer is queued on the connection.</summary>
    public void Start()
    {
        RpcSubscription? next = _first;
        while (next is not null)
        {
            RpcSubscription current = next;
            next = current.NextStarting;
            current.NextStarting = null;
            current.Activate();
        }
    }
}
