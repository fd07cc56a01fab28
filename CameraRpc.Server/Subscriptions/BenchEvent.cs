namespace CameraRpc.Server.Subscriptions;

/// <summary>
/// One <c>bench.events</c> event (<c>serve --bench-topics on</c>): <c>{"i":N,"t":TIMESTAMP}</c>, and
/// <c>"p":"xx…"</c> when the publisher was asked for bigger events.
/// </summary>
/// <param name="Index">1 for the first event of a <c>bench.publish</c> call, counting up.</param>
/// <param name="Timestamp">
/// <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> when the event was published. On Linux that is
/// CLOCK_MONOTONIC in nanoseconds, the same clock in every process of the host, so a client on the same
/// host subtracts it from its own timestamp to get the publish-to-receive latency.
/// </param>
/// <param name="Padding">The <c>p</c> string's UTF-8 (ASCII) bytes, the same array for every event of a call; null for none.</param>
internal readonly record struct BenchEvent(long Index, long Timestamp, byte[]? Padding);
