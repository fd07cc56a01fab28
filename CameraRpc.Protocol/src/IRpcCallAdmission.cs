namespace CameraRpc.Protocol;

/// <summary>What <see cref="IRpcCallAdmission.Admit"/> decided about one call.</summary>
public enum RpcAdmissionDecision
{
    /// <summary>The call may run.</summary>
    Admitted,

    /// <summary>The caller lacks the scope the method needs: -32001 with <c>data.scope</c>.</summary>
    Forbidden,

    /// <summary>Over a rate limit: -32005 with <c>data.retryAfterMs</c>; the call does not run.</summary>
    RateLimited,
}

/// <summary>
/// The access step of a connection (or HTTP request), supplied by the server on its
/// <see cref="RpcContext"/>: scopes and rate limits. The engine asks it before every call runs and
/// knows nothing of tokens, addresses or HTTP.
/// </summary>
/// <remarks>
/// Null on the context when the server has no access option set, so that the hot path pays nothing.
/// Implementations must be thread-safe (calls of one connection run concurrently) and must not
/// allocate: <see cref="Admit"/> runs on every call. <c>$/cancelRequest</c> is never admitted through
/// it: a cancel never counts against a limit.
/// </remarks>
public interface IRpcCallAdmission
{
    /// <summary>Decides whether a call may run, counting it against the rate limits.</summary>
    /// <param name="method">The method called, or null when there is no such method (it still counts as one call).</param>
    /// <param name="retryAfterMs">When <see cref="RpcAdmissionDecision.RateLimited"/>: milliseconds until it would pass.</param>
    RpcAdmissionDecision Admit(RpcMethod? method, out long retryAfterMs);

    /// <summary>True when the caller holds <paramref name="scope"/> (a topic's scope at <c>rpc.subscribe</c>).</summary>
    bool HasScope(string scope);
}
