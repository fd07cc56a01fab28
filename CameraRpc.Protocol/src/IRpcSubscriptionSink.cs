namespace CameraRpc.Protocol;

/// <summary>
/// The transport side of a connection that can carry subscriptions (a WebSocket): it pulls each
/// subscription's messages when it is ready to write them. Implemented by the connection's writer
/// together with <see cref="IRpcNotificationSink"/>; a context whose sink does not implement it
/// answers <c>rpc.subscribe</c> with -32004.
/// </summary>
/// <remarks>Thread-safe: called from any thread, never blocks, never throws.</remarks>
public interface IRpcSubscriptionSink
{
    /// <summary>
    /// <paramref name="subscription"/> has a message: call its <see cref="RpcSubscription.TryTakeNext"/>
    /// when its turn comes, and again on each later turn until it returns false.
    /// </summary>
    void Schedule(RpcSubscription subscription);

    /// <summary>
    /// <paramref name="subscription"/> is scheduled and its queue is full: send what the connection has
    /// queued now, on the calling thread, unless a writer is already busy with the connection (a socket
    /// write that cannot complete at once then continues on its own). A publisher calls it before the
    /// topic's overflow policy drops or ends anything, so that a subscriber whose client reads loses
    /// nothing to thread scheduling: only one whose socket cannot take more does.
    /// </summary>
    void WriteNow(RpcSubscription subscription);
}

/// <summary>Hook for the metrics and log lines of subscriptions (CONTRACT section 6).</summary>
/// <remarks>Called from any thread, possibly under a subscription's lock: implementations must be thread-safe, must not block and should not allocate per event.</remarks>
public interface IRpcSubscriptionObserver
{
    /// <summary>
    /// A subscription is being opened: it counts from now on (a topic's event 1 may report it). If the
    /// topic refuses it (its params do not bind), <see cref="OnAbandoned"/> follows.
    /// </summary>
    void OnOpening(RpcSubscription subscription);

    /// <summary>A subscription was opened (its answer is about to be queued).</summary>
    void OnSubscribed(RpcSubscription subscription);

    /// <summary>The client unsubscribed an open subscription.</summary>
    void OnUnsubscribed(RpcSubscription subscription);

    /// <summary>The server ended a subscription with <paramref name="reason"/>.</summary>
    void OnEnded(RpcSubscription subscription, RpcSubscriptionEndReason reason);

    /// <summary>The connection went away with the subscription open, or the topic refused to open it.</summary>
    void OnAbandoned(RpcSubscription subscription);

    /// <summary>An event was sent, dropped or coalesced.</summary>
    void OnEvent(RpcTopicInfo topic, RpcEventOutcome outcome);

    /// <summary>A per-subscriber topic threw; the client only sees <c>end: failed</c>.</summary>
    void OnFailed(RpcSubscription subscription, Exception exception);
}
