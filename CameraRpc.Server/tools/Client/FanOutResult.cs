namespace CameraRpc.Server.Tools.Client;

/// <summary>Every figure of one fan-out run (<see cref="FanOutBench"/>); event counts are of the reading subscribers only.</summary>
internal sealed class FanOutResult
{
    public required FanOutOptions Options { get; init; }

    /// <summary>Connections opened, reading and stalled subscribers together.</summary>
    public required int ConnectionsOpened { get; init; }

    /// <summary>Connections that could not be opened.</summary>
    public required int ConnectionsFailed { get; init; }

    /// <summary>Subscriptions the server answered with an id, reading and stalled together.</summary>
    public required int Subscribed { get; init; }

    /// <summary>Reading subscribers whose connection broke or was closed by the server during the run.</summary>
    public required int Dropped { get; init; }

    /// <summary>Events the server published (its <c>bench.publish</c> answer); 0 when nothing was published.</summary>
    public required long Published { get; init; }

    /// <summary>Subscriptions the server counted when the publisher started (its answer), or null.</summary>
    public int? ServerSubscribers { get; init; }

    /// <summary>How long the server's publisher ran, or null when nothing was published.</summary>
    public TimeSpan? PublishElapsed { get; init; }

    /// <summary>Events that reached the reading subscribers, all together.</summary>
    public required long Delivered { get; init; }

    /// <summary>Events the reading subscribers should have had: published × reading subscribers subscribed.</summary>
    public required long Expected { get; init; }

    /// <summary>Seq gaps seen: events skipped between two that arrived (dropped by the server's queue).</summary>
    public required long GapEvents { get; init; }

    /// <summary>Reading subscribers that did not get every event (a gap, or the last ones missing).</summary>
    public required int SubscribersBehind { get; init; }

    /// <summary>From the first delivery to the last, over every reading subscriber.</summary>
    public required TimeSpan DeliverySpan { get; init; }

    /// <summary>Delivered events per second over <see cref="DeliverySpan"/>.</summary>
    public double DeliveredPerSecond => DeliverySpan > TimeSpan.Zero ? Delivered / DeliverySpan.TotalSeconds : 0;

    /// <summary>
    /// Publish-to-receive time of each delivered event, µs; null when it cannot be measured (the server is
    /// not on this host, or its timestamps are on another clock).
    /// </summary>
    public required LatencyHistogram? Latency { get; init; }

    /// <summary>Why <see cref="Latency"/> is null, or null.</summary>
    public string? LatencyUnavailable { get; init; }

    /// <summary>Server RSS in KiB before the connections were opened, with them open, and once subscribed; null without a server pid.</summary>
    public long? RssBeforeKiB { get; init; }

    public long? RssConnectedKiB { get; init; }

    public long? RssSubscribedKiB { get; init; }

    /// <summary>
    /// Events of the topic the server dropped during the publish (its <c>/metrics</c>), for stalled subscribers
    /// and readers behind alike; 0 with stalled subscribers means their sockets still held everything. Null when unread.
    /// </summary>
    public long? ServerDropped { get; init; }

    /// <summary>Server CPU seconds from the start of publishing to the last delivery; null without a server pid.</summary>
    public double? ServerCpuSeconds { get; init; }

    /// <summary>The first thing that went wrong (a refused subscription, a broken connection, a refused publish), or null.</summary>
    public string? FirstProblem { get; init; }

    /// <summary>The first connect failure, or null.</summary>
    public string? FirstConnectError { get; init; }

    /// <summary>Every connection opened and subscribed, none dropped, and the publish (if any) answered; missed events are reported, not failures.</summary>
    public bool IsClean => ConnectionsFailed == 0 && Dropped == 0 && Subscribed == ConnectionsOpened && FirstProblem is null;

    /// <summary>RSS growth per connection (KiB), connections open against before.</summary>
    public double? KiBPerConnection => RssBeforeKiB is long before && RssConnectedKiB is long connected && ConnectionsOpened > 0
        ? (double)(connected - before) / ConnectionsOpened
        : null;

    /// <summary>RSS growth per subscription (KiB), subscribed against connections open.</summary>
    public double? KiBPerSubscription => RssConnectedKiB is long connected && RssSubscribedKiB is long subscribed && Subscribed > 0
        ? (double)(subscribed - connected) / Subscribed
        : null;
}
