namespace CameraRpc.Server.Subscriptions;

/// <summary>One <c>server.stats</c> event (CONTRACT section 6); every figure is server-wide.</summary>
/// <param name="Connections">WebSocket connections open now.</param>
/// <param name="Subscriptions">Subscriptions open now, on every connection.</param>
/// <param name="Calls">Calls answered or run since start.</param>
/// <param name="CallsPerSecond">Calls per second over the last tick.</param>
/// <param name="Errors">Error answers since start.</param>
/// <param name="ReceivedBytes">Bytes received (WebSocket payloads, HTTP bodies).</param>
/// <param name="SentBytes">Bytes sent.</param>
/// <param name="UptimeSeconds">Whole seconds since the server started.</param>
internal readonly record struct ServerStats(
    long Connections, long Subscriptions, long Calls, double CallsPerSecond, long Errors, long ReceivedBytes, long SentBytes, long UptimeSeconds);
