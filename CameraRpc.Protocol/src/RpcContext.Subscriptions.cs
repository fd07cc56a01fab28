namespace CameraRpc.Protocol;

public sealed partial class RpcContext
{
    private RpcSubscriptionRegistry? _subscriptions;
    private RpcCallRegistry? _calls;

    /// <summary>True when this connection can hold subscriptions (a WebSocket); false over HTTP (-32004).</summary>
    internal bool CanSubscribe => _sink is IRpcSubscriptionSink;

    /// <summary>The connection's subscriptions, made on its first <c>rpc.subscribe</c>; null before, and over HTTP.</summary>
    internal RpcSubscriptionRegistry? Subscriptions => Volatile.Read(ref _subscriptions);

    /// <summary>The running calls <c>$/cancelRequest</c> can reach; null over HTTP, where a call cannot be cancelled.</summary>
    internal RpcCallRegistry? Calls
    {
        get
        {
            if (_sink is null)
            {
                return null;
            }

            RpcCallRegistry? calls = Volatile.Read(ref _calls);
            if (calls is null)
            {
                Interlocked.CompareExchange(ref _calls, new RpcCallRegistry(), null);
                calls = _calls!;
            }

            return calls;
        }
    }

    internal RpcSubscriptionRegistry GetOrCreateSubscriptions()
    {
        RpcSubscriptionRegistry? registry = Volatile.Read(ref _subscriptions);
        if (registry is null)
        {
            var made = new RpcSubscriptionRegistry(
                this, (IRpcSubscriptionSink)_sink!, Dispatcher.Options.MaxSubscriptions, Dispatcher.Options.SubscriptionObserver);
            registry = Interlocked.CompareExchange(ref _subscriptions, made, null) ?? made;
        }

        return registry;
    }
}

/// <summary>
/// What the transport does with a connection's subscriptions when the connection ends: the server-side
/// counterpart of <c>rpc.subscribe</c>, kept off <see cref="RpcContext"/> so that methods do not see it.
/// </summary>
public static class RpcConnectionSubscriptions
{
    /// <summary>Subscriptions the connection holds now.</summary>
    public static int Count(RpcContext context) => context.Subscriptions?.Count ?? 0;

    /// <summary>Shutdown: every subscription ends with <paramref name="reason"/>; each client gets its <c>end</c> notification (queued like an event).</summary>
    public static void EndAll(RpcContext context, RpcSubscriptionEndReason reason) => context.Subscriptions?.EndAll(reason);

    /// <summary>The connection is gone: every subscription stops silently, per-subscriber streams are cancelled, nothing stays behind.</summary>
    public static void CloseAll(RpcContext context)
    {
        // Made if missing, so that a subscribe racing with the disconnect is refused rather than left behind.
        if (context.CanSubscribe)
        {
            context.GetOrCreateSubscriptions().CloseAll();
        }
    }
}
