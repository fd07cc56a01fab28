namespace CameraRpc.Server.Logging;

/// <summary>
/// The log events of subscriptions (CONTRACT section 6): subscribe, unsubscribe and server-ended
/// subscriptions at info; events at debug only (they can be thousands a second); a topic's failure at error.
/// </summary>
internal sealed partial class ServerLog
{
    /// <summary><c>--bench-topics on</c>: said at startup, so a production log shows it was left on.</summary>
    public void BenchTopicsOn(string topic, string method) =>
        Log(LogLevel.Info, $"Bench topics on: topic {topic} and method {method} are served (--bench-topics; for benchmarks only)");

    /// <summary>A client subscribed to a topic.</summary>
    public void Subscribed(string endpoint, string topic, string subscription)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, $"Client {endpoint} subscribed to {topic} (subscription {subscription})");
        }
    }

    /// <summary>A client unsubscribed an open subscription.</summary>
    public void Unsubscribed(string endpoint, string topic, string subscription)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, $"Client {endpoint} unsubscribed from {topic} (subscription {subscription})");
        }
    }

    /// <summary>The server ended a subscription (completed, overflow, shutdown, failed).</summary>
    public void SubscriptionEnded(string endpoint, string topic, string subscription, string reason)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, $"Subscription {subscription} of {endpoint} to {topic} ended by the server: {reason}");
        }
    }

    /// <summary>A per-subscriber topic threw; its subscriber only sees <c>end: failed</c>.</summary>
    public void TopicFailed(string endpoint, string topic, string subscription, Exception exception)
    {
        if (IsEnabled(LogLevel.Error))
        {
            Write(LogLevel.Error, $"Topic {topic} failed for subscription {subscription} of {endpoint}: {exception}");
        }
    }

    /// <summary>A subscription event going out, at debug level only.</summary>
    public void SendingEvent(string endpoint, ReadOnlySpan<byte> utf8Body)
    {
        if (IsEnabled(LogLevel.Debug) && _sink?.DropIfFull() == false)
        {
            Write(LogLevel.Debug, LogLineFormatter.ComposeBodyMessage("Event to ", endpoint, ": ", utf8Body));
        }
    }
}
