using System.Diagnostics.CodeAnalysis;
using System.Net;
using CameraRpc.Server.Configuration;

namespace CameraRpc.Server.Security;

/// <summary>
/// Contract section 8 for the whole server: the accepted tokens (<c>--auth-token</c>,
/// <c>--tokens-file</c>, reloaded on SIGHUP), the real client address (<c>--trusted-proxies</c>) and
/// the rate limits (<c>--rate-limit</c>, <c>--rate-limit-per-address</c>, <c>--connect-rate-limit</c>).
/// The endpoints ask it about each request; it hands each connection its <see cref="CallAdmission"/>.
/// </summary>
/// <remarks>
/// With none of the access options set, <see cref="ForConnection"/> and <see cref="ForHttpRequest"/>
/// give null: no admission step runs and the hot path pays nothing.
/// </remarks>
internal sealed class AccessControl
{
    /// <summary>
    /// TEST ONLY: when this environment variable is <c>1</c>, the rate limits' clock stands still, so
    /// that end-to-end tests can check the edge of a limit exactly (the N-th call passes, the next is
    /// refused) without racing the refill. Never set it in production: no bucket would ever refill.
    /// </summary>
    public const string FrozenClockVariable = "CAMERARPC_TEST_FROZEN_RATE_CLOCK";

    private readonly string? _authToken;
    private readonly TokenBucketRate? _connectionRate;
    private volatile TokenSet? _tokens;

    private AccessControl(ServerOptions options, TokenSet? tokens, TimeProvider time, RateLimitCounters counters)
    {
        TokensFile = options.TokensFile;
        _authToken = options.AuthToken;
        _tokens = tokens;
        Counters = counters;
        Addresses = new ClientAddressResolver(options.TrustedProxies);
        _connectionRate = options.RateLimit > 0 ? new TokenBucketRate(options.RateLimit, time) : null;
        if (options.RateLimitPerAddress > 0 || options.ConnectRateLimit > 0)
        {
            AddressTable = new AddressRateTable(options.RateLimitPerAddress, options.ConnectRateLimit, time);
        }

        ChecksScopes = tokens is not null;

        // Calls pass an admission step only when something checks them: --auth-token alone (one token
        // with every scope) and --connect-rate-limit alone (upgrades only) leave calls as they were.
        IsEnabled = TokensFile is not null || _connectionRate is not null || AddressTable is { LimitsCalls: true };
    }

    /// <summary>The tokens file, or null.</summary>
    public string? TokensFile { get; }

    /// <summary>True when a request needs a token (<c>--auth-token</c> or <c>--tokens-file</c>); then scopes are checked too.</summary>
    public bool ChecksScopes { get; }

    /// <summary>True when calls go through an admission step (a tokens file or a limit on calls).</summary>
    public bool IsEnabled { get; }

    /// <summary>Finds the real client behind trusted proxies.</summary>
    public ClientAddressResolver Addresses { get; }

    /// <summary>The per-address buckets, or null when neither per-address limit is set.</summary>
    public AddressRateTable? AddressTable { get; }

    /// <summary>Refusals per limit, for <c>/metrics</c>.</summary>
    public RateLimitCounters Counters { get; }

    /// <summary>The tokens accepted now (after the last good reload).</summary>
    public TokenSet? Tokens => _tokens;

    /// <summary>Reads the tokens file (if any) and builds the access rules; false with one line when the file is missing or broken.</summary>
    public static bool TryCreate(ServerOptions options, RateLimitCounters counters, [NotNullWhen(true)] out AccessControl? access, [NotNullWhen(false)] out string? error)
    {
        access = null;
        TokenSet? tokens = null;
        if (options.TokensFile is { } path)
        {
            if (!TokensFileLoader.TryLoad(path, out tokens, out error))
            {
                return false;
            }
        }

        if (!string.IsNullOrEmpty(options.AuthToken))
        {
            tokens = (tokens ?? TokenSet.Empty).WithAuthToken(options.AuthToken);
        }

        TimeProvider time = Environment.GetEnvironmentVariable(FrozenClockVariable) == "1" ? new FrozenTimeProvider() : TimeProvider.System;
        access = new AccessControl(options, tokens, time, counters);
        error = null;
        return true;
    }

    /// <summary>The identity of a presented token; null when it is no token of ours.</summary>
    public TokenIdentity? Authenticate(ReadOnlySpan<char> token) => _tokens?.Find(token);

    /// <summary>The client's address for a request (behind trusted proxies, the one they name).</summary>
    public IPAddress ClientAddress(HttpListenerRequest request)
    {
        IPAddress peer = request.RemoteEndPoint?.Address ?? IPAddress.None;
        return Addresses.TrustsNoProxy
            ? ClientAddressResolver.Normalize(peer)
            : Addresses.Resolve(peer, request.Headers["X-Forwarded-For"], request.Headers["X-Real-IP"]);
    }

    /// <summary>How the log names a client: its address and port, or its address and the proxy it came through.</summary>
    public static string Describe(IPAddress client, IPEndPoint? peer)
    {
        if (peer is null)
        {
            return client.ToString();
        }

        return client.Equals(ClientAddressResolver.Normalize(peer.Address))
            ? new IPEndPoint(client, peer.Port).ToString()
            : $"{client} via {peer}";
    }

    /// <summary>Takes one upgrade of <paramref name="client"/> (<c>--connect-rate-limit</c>); false when over it.</summary>
    public bool TryConnect(IPAddress client, out long retryAfterMs)
    {
        retryAfterMs = 0;
        if (AddressTable is null || AddressTable.TryConnect(client, out retryAfterMs))
        {
            return true;
        }

        Counters.Count(RateLimit.Connect);
        return false;
    }

    /// <summary>Takes a whole HTTP request's calls from its address's bucket; false (429) when they do not fit.</summary>
    public bool TryTakeHttp(IPAddress client, long cost, out long retryAfterMs)
    {
        retryAfterMs = 0;
        if (AddressTable is not { LimitsCalls: true } || AddressTable.TryTakeCalls(client, (int)Math.Min(cost, int.MaxValue), out retryAfterMs))
        {
            return true;
        }

        Counters.Count(RateLimit.Address);
        return false;
    }

    /// <summary>The admission step of a new WebSocket connection, holding its address's entry; null when nothing is checked.</summary>
    public CallAdmission? ForConnection(TokenIdentity? identity, IPAddress client, out AddressEntry? heldEntry)
    {
        heldEntry = null;
        if (!IsEnabled)
        {
            return null;
        }

        if (AddressTable is { LimitsCalls: true })
        {
            heldEntry = AddressTable.Acquire(client);
        }

        return new CallAdmission(identity, ChecksScopes, _connectionRate is null ? null : new TokenBucket(_connectionRate), heldEntry, Counters);
    }

    /// <summary>Lets the address table forget a closed connection's entry once idle.</summary>
    public void Release(AddressEntry? heldEntry)
    {
        if (heldEntry is not null)
        {
            AddressTable?.Release(heldEntry);
        }
    }

    /// <summary>The scope check of one HTTP request (its rate was taken as a whole); null when scopes are not checked.</summary>
    /// <remarks>
    /// Made once per token and kept on it: it holds no bucket and is never rebound (a reload makes new
    /// identities, and so new admissions), so the requests of one token share it and a POST allocates none.
    /// </remarks>
    public CallAdmission? ForHttpRequest(TokenIdentity? identity)
    {
        if (TokensFile is null)
        {
            return null;
        }

        if (identity is null)
        {
            return new CallAdmission(null, checksScopes: true, null, null, Counters);
        }

        // Two requests racing here may each make one; either is right.
        return identity.HttpAdmission ??= new CallAdmission(identity, checksScopes: true, null, null, Counters);
    }

    /// <summary>Re-reads the tokens file (SIGHUP). False with one line when it no longer reads: the old tokens stay.</summary>
    public bool TryReload([NotNullWhen(true)] out TokenSet? tokens, [NotNullWhen(false)] out string? error)
    {
        tokens = null;
        if (TokensFile is null)
        {
            error = "no --tokens-file to reload";
            return false;
        }

        if (!TokensFileLoader.TryLoad(TokensFile, out TokenSet? loaded, out error))
        {
            return false;
        }

        tokens = loaded.WithAuthToken(_authToken);
        _tokens = tokens;
        return true;
    }

    /// <summary>Seconds for a <c>Retry-After</c> header: whole seconds, rounded up, at least 1.</summary>
    public static long RetryAfterSeconds(long retryAfterMs) => Math.Max(1, (retryAfterMs + 999) / 1000);

    /// <summary>The test-only clock that never moves (<see cref="FrozenClockVariable"/>).</summary>
    private sealed class FrozenTimeProvider : TimeProvider
    {
        private readonly long _now = TimeProvider.System.GetTimestamp();

        public override long GetTimestamp() => _now;
    }
}
