using CameraRpc.Protocol;

namespace CameraRpc.Server.Security;

/// <summary>
/// The access step of one WebSocket connection or HTTP request (<see cref="IRpcCallAdmission"/>): its
/// rate limits, then the scope of its token. Made only when an access option is set.
/// </summary>
/// <remarks>
/// <para>
/// Every call counts against the limits (as its method's cost; an unknown method as 1), a forbidden one
/// included: refusing is work too. The connection's bucket is taken first, then the address's. The
/// identity is swapped by a SIGHUP reload (<see cref="Rebind"/>); a call reads it once, so the new
/// scopes apply from the next call.
/// </para>
/// <para>Allocation-free: two bucket takes under their own locks and a scan of the token's scopes.</para>
/// </remarks>
internal sealed class CallAdmission : IRpcCallAdmission
{
    private readonly TokenBucket? _connection;
    private readonly AddressEntry? _address;
    private readonly RateLimitCounters? _counters;
    private readonly bool _checksScopes;
    private volatile TokenIdentity? _identity;

    /// <param name="identity">The caller's token, or null when no token is required.</param>
    /// <param name="checksScopes">True when <c>--auth-token</c> or <c>--tokens-file</c> is set.</param>
    /// <param name="connection">The connection's bucket (<c>--rate-limit</c>), or null.</param>
    /// <param name="address">The address's buckets (<c>--rate-limit-per-address</c>), or null.</param>
    /// <param name="counters">Where refusals are counted.</param>
    public CallAdmission(TokenIdentity? identity, bool checksScopes, TokenBucket? connection, AddressEntry? address, RateLimitCounters? counters)
    {
        _identity = identity;
        _checksScopes = checksScopes;
        _connection = connection;
        _address = address?.Calls is null ? null : address;
        _counters = counters;
    }

    /// <summary>The caller's token now (a reload may have replaced it), or null when none is required.</summary>
    public TokenIdentity? Identity => _identity;

    /// <inheritdoc />
    public RpcAdmissionDecision Admit(RpcMethod? method, out long retryAfterMs)
    {
        int cost = method?.Cost ?? 1;
        if (_connection is not null && !_connection.TryTake(cost, out retryAfterMs))
        {
            _counters?.Count(RateLimit.Connection);
            return RpcAdmissionDecision.RateLimited;
        }

        if (_address is not null && !_address.TryTakeCalls(cost, out retryAfterMs))
        {
            _counters?.Count(RateLimit.Address);
            return RpcAdmissionDecision.RateLimited;
        }

        retryAfterMs = 0;
        return method?.Scope is { } scope && !HasScope(scope) ? RpcAdmissionDecision.Forbidden : RpcAdmissionDecision.Admitted;
    }

    /// <inheritdoc />
    public bool HasScope(string scope) => !_checksScopes || (_identity?.HasScope(scope) ?? false);

    /// <summary>
    /// After a reload: the same token (by hash) in <paramref name="tokens"/> takes over with its new
    /// scopes and name. False when the token is gone: the connection must be closed (1008).
    /// </summary>
    public bool Rebind(TokenSet tokens)
    {
        if (_identity is not { } current)
        {
            return true;
        }

        TokenIdentity? renewed = tokens.FindByHash(current.Sha256Hash);
        if (renewed is null)
        {
            return false;
        }

        _identity = renewed;
        return true;
    }
}
