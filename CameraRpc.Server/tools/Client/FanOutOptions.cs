namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// What one fan-out run does (<c>bench --subscribers N</c>): N subscribers of <c>bench.events</c> that read
/// everything, K that subscribe and then stop reading, and one publisher in the server (<c>bench.publish</c>).
/// </summary>
/// <param name="Url">The server's <c>ws://</c> URL; it must run with <c>--bench-topics on</c>.</param>
/// <param name="Subscribers">N: subscribers that read every event (the ones measured).</param>
/// <param name="Stalled">K: subscribers that stop reading once subscribed (small socket buffers), so the server's queues for them fill.</param>
/// <param name="Events">Events published; 0 publishes nothing (the run then measures what idle subscriptions cost).</param>
/// <param name="Rate">Events published per second; 0 back to back.</param>
/// <param name="Size">Bytes of padding in each event (0: none): bigger events fill a stalled subscriber's socket sooner.</param>
/// <param name="ServerPid">The server's process, whose memory (RSS) and CPU time are reported; null: not reported.</param>
internal sealed record FanOutOptions(Uri Url, int Subscribers, int Stalled, int Events, int Rate, int Size, int? ServerPid)
{
    /// <summary>The topic subscribed to (served with <c>serve --bench-topics on</c>).</summary>
    public const string Topic = "bench.events";

    /// <summary>The method that publishes.</summary>
    public const string PublishMethod = "bench.publish";

    /// <summary>The kernel receive buffer of a stalled subscriber's socket (SO_RCVBUF): small, so the server's queue for it fills soon.</summary>
    public const int StalledReceiveBufferBytes = 4096;

    /// <summary>Most connects pending at once (HttpListener's accept backlog is 500, see <see cref="LoadOptions.MaxPendingConnects"/>).</summary>
    public int MaxPendingConnects { get; init; } = 200;

    /// <summary>How long one connect (TCP + upgrade), or one subscribe answer, may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>After the publisher is done, how long the subscribers may go without a delivery before the run stops waiting for the rest.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// With <see cref="ServerPid"/>, how long the server is left quiet before each RSS reading, so its once-a-second
    /// memory housekeeping (a collection after a burst of connections) has run.
    /// </summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The server's <c>--auth-token</c> (see <see cref="BearerToken"/>), or null.</summary>
    public string? AuthToken { get; init; }
}
