namespace CameraRpc.Server.Tools.Client;

/// <summary>What one closed-loop load run does: N connections, D requests in flight on each.</summary>
/// <param name="Url">The server's <c>ws://</c> URL.</param>
/// <param name="Connections">N: WebSocket connections opened before the load starts.</param>
/// <param name="Pipeline">D: requests kept in flight on each connection; a new one goes out per answer.</param>
/// <param name="Duration">Measured time.</param>
/// <param name="Warmup">Load before the measurement that is not recorded (JIT, pools, caches settle).</param>
/// <param name="Method">The method every request calls.</param>
/// <param name="ParamsJson">Compact <c>params</c> JSON (array or object), or <see langword="null"/>.</param>
/// <param name="ServerPid">The server's process id for CPU accounting; found from the port when null and the host is local.</param>
internal sealed record LoadOptions(
    Uri Url,
    int Connections,
    int Pipeline,
    TimeSpan Duration,
    TimeSpan Warmup,
    string Method,
    string? ParamsJson,
    int? ServerPid)
{
    /// <summary>
    /// Most connects pending at once. HttpListener's accept backlog is a fixed 500, so opening
    /// 10,000 connections at once overflows it (SYNs dropped, 1 s+ retransmits); 200 keeps well under it.
    /// </summary>
    public int MaxPendingConnects { get; init; } = 200;

    /// <summary>How long one connect (TCP + upgrade) may take before it counts as failed.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long after the measurement the answers still in flight may take before they count as lost.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Where the one-line progress goes once a second (a terminal), or <see langword="null"/> for none.</summary>
    public TextWriter? Progress { get; init; }

    /// <summary>
    /// The server's <c>--auth-token</c>, sent as <c>Authorization: Bearer TOKEN</c> on every upgrade, or
    /// <see langword="null"/> for none (see <see cref="BearerToken"/>). Never part of the report.
    /// </summary>
    public string? AuthToken { get; init; }

    /// <summary>
    /// <c>--compression</c>: connect through the runtime's <c>ClientWebSocket</c> offering permessage-deflate
    /// (as browsers do) instead of the self-framed sockets, so the run measures compression when the server accepts it.
    /// </summary>
    public bool Compression { get; init; }
}
