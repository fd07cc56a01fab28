namespace CameraRpc.Server.Security;

/// <summary>Which limit refused a request: the label of <c>camerarpc_rate_limited_total{limit}</c>.</summary>
internal enum RateLimit
{
    /// <summary><c>--rate-limit</c>: one WebSocket connection's calls.</summary>
    Connection,

    /// <summary><c>--rate-limit-per-address</c>: one client address's calls.</summary>
    Address,

    /// <summary><c>--connect-rate-limit</c>: one client address's upgrades.</summary>
    Connect,
}

/// <summary>Refusals per limit, for <c>/metrics</c>; lock-free.</summary>
internal sealed class RateLimitCounters
{
    private long _connection;
    private long _address;
    private long _connect;

    public void Count(RateLimit limit)
    {
        switch (limit)
        {
            case RateLimit.Connection: Interlocked.Increment(ref _connection); break;
            case RateLimit.Address: Interlocked.Increment(ref _address); break;
            default: Interlocked.Increment(ref _connect); break;
        }
    }

    /// <summary>Refusals of <paramref name="limit"/> since start.</summary>
    public long this[RateLimit limit] => limit switch
    {
        RateLimit.Connection => Volatile.Read(ref _connection),
        RateLimit.Address => Volatile.Read(ref _address),
        _ => Volatile.Read(ref _connect),
    };

    /// <summary>The label value of <paramref name="limit"/>.</summary>
    public static string Label(RateLimit limit) => limit switch
    {
        RateLimit.Connection => "connection",
        RateLimit.Address => "address",
        _ => "connect",
    };
}
