using CameraRpc.Server.Logging;

namespace CameraRpc.Server.Configuration;

/// <summary>
/// Every <c>serve</c> option of contract §1, with its default. Built once at startup by
/// <see cref="OptionsLoader"/> and never changed afterwards.
/// </summary>
/// <remarks>
/// The defaults here are the defaults of the product; <see cref="OptionDefinitions"/> holds the text
/// shown for them in <c>--help</c>, and a test checks that the two agree.
/// </remarks>
internal sealed record ServerOptions
{
    /// <summary>The options when nothing is configured.</summary>
    public static ServerOptions Default { get; } = new();

    /// <summary>Address to listen on (<c>0.0.0.0</c>, <c>::</c>, <c>127.0.0.1</c>, a host name…).</summary>
    public string Host { get; init; } = "0.0.0.0";

    /// <summary>TCP port; 0 lets the system pick a free one.</summary>
    public int Port { get; init; } = 8002;

    /// <summary>The JSON-RPC endpoint path; always starts with <c>/</c>.</summary>
    public string Path { get; init; } = "/ws";

    /// <summary>The log file, or null when file logging is off (<c>--log-file none</c>).</summary>
    public string? LogFile { get; init; } = "logs/server.log";

    /// <summary>The least severe level written.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Info;

    /// <summary>Largest inbound message (WebSocket message or HTTP body), in bytes.</summary>
    public int MaxMessageBytes { get; init; } = 1_048_576;

    /// <summary>Most calls in one batch.</summary>
    public int MaxBatch { get; init; } = 1000;

    /// <summary>Most WebSocket connections open at once.</summary>
    public int MaxConnections { get; init; } = 10_000;

    /// <summary>Most calls of one connection executing at once.</summary>
    public int MaxConcurrency { get; init; } = 64;

    /// <summary>The bearer token clients must present, or null when no authentication is required.</summary>
    public string? AuthToken { get; init; }

    /// <summary>
    /// <c>Origin</c> values allowed to upgrade from a browser; empty allows none (other than same
    /// origin and requests without <c>Origin</c>), and an entry <c>*</c> allows any.
    /// </summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>Time without an inbound message after which a connection is closed; zero never closes.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.Zero;

    /// <summary>How long shutdown waits for calls in flight.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most subscriptions one connection may hold at once (contract §6); 0 allows none.</summary>
    public int MaxSubscriptions { get; init; } = 100;

    /// <summary>True when permessage-deflate is accepted from clients that offer it (contract §7).</summary>
    public bool Compression { get; init; } = true;

    /// <summary>The JSON file of named, scoped tokens (contract §8), or null when there is none.</summary>
    public string? TokensFile { get; init; }

    /// <summary>Calls per second allowed to one connection (token bucket, burst the same); 0 is no limit.</summary>
    public int RateLimit { get; init; }

    /// <summary>Calls per second allowed to one client address, all its connections and HTTP requests together; 0 is no limit.</summary>
    public int RateLimitPerAddress { get; init; }

    /// <summary>WebSocket upgrades per second allowed to one client address; 0 is no limit.</summary>
    public int ConnectRateLimit { get; init; }

    /// <summary>Proxies (single addresses as /32 or /128 networks) whose forwarding headers name the real client.</summary>
    public IReadOnlyList<System.Net.IPNetwork> TrustedProxies { get; init; } = [];

    /// <summary>True when the browser console is served at <c>GET /</c> (contract §9).</summary>
    public bool Console { get; init; } = true;

    /// <summary>
    /// True when the fan-out benchmark's topic <c>bench.events</c> and method <c>bench.publish</c> are served
    /// (<c>Subscriptions/BenchTopics.cs</c>); off, neither exists.
    /// </summary>
    public bool BenchTopics { get; init; }

    // Timings of the transport that are not options of the executable: fixed in the product, shortened
    // by tests that host the server in process.

    /// <summary>How often an idle WebSocket connection is pinged.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may go unanswered before the connection is dropped as dead.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long calls cancelled when <see cref="ShutdownTimeout"/> ran out get to queue their -32000
    /// before the 1001 goes out (part of the one second that shutdown allows after the timeout).
    /// </summary>
    public TimeSpan ShutdownCancelGrace { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>True when <see cref="AllowedOrigins"/> contains <c>*</c>.</summary>
    public bool AllowsAnyOrigin => AllowedOrigins.Contains("*");
}
