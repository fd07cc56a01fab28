namespace CameraRpc.Protocol;

/// <summary>The engine's settings: limits and hooks. Immutable once a dispatcher uses them.</summary>
public sealed class RpcDispatcherOptions
{
    /// <summary>Most calls in one batch (<c>--max-batch</c>); a larger batch is one -32600 and nothing runs.</summary>
    public int MaxBatch { get; init; } = 1000;

    /// <summary>Where handlers' log lines go (<see cref="RpcContext.Logger"/>).</summary>
    public IRpcLogger Logger { get; init; } = NullRpcLogger.Instance;

    /// <summary>Told about every call, for metrics and logs; null for none.</summary>
    public IRpcCallObserver? Observer { get; init; }

    /// <summary>Most subscriptions one connection may hold at once (<c>--max-subscriptions</c>); one more is -32006.</summary>
    public int MaxSubscriptions { get; init; } = 100;

    /// <summary>Told about subscriptions and their events, for metrics and logs; null for none.</summary>
    public IRpcSubscriptionObserver? SubscriptionObserver { get; init; }
}
