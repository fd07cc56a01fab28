using CameraRpc.Protocol;
using CameraRpc.Server.Logging;

namespace CameraRpc.Server.Subscriptions;

/// <summary>
/// The server's eyes on subscriptions: the metrics of <see cref="SubscriptionMetrics"/> and the log
/// lines of CONTRACT section 6 (subscribe, unsubscribe and server-ended subscriptions at info; a
/// topic's failure at error with its exception; events are counted, never logged here: their sends
/// are logged at debug by the transport).
/// </summary>
internal sealed class SubscriptionObserver(ServerLog log, SubscriptionMetrics metrics) : IRpcSubscriptionObserver
{
    public void OnOpening(RpcSubscription subscription) => metrics.Opened(subscription.Topic.Name);

    public void OnSubscribed(RpcSubscription subscription)
    {
        if (log.IsEnabled(LogLevel.Info))
        {
            log.Info($"Client {Endpoint(subscription)} subscribed to {subscription.Topic.Name} (subscription {subscription.Id})");
        }
    }

    public void OnUnsubscribed(RpcSubscription subscription)
    {
        metrics.Closed(subscription.Topic.Name);
        if (log.IsEnabled(LogLevel.Info))
        {
            log.Info($"Client {Endpoint(subscription)} unsubscribed from {subscription.Topic.Name} (subscription {subscription.Id})");
        }
    }

    public void OnEnded(RpcSubscription subscription, RpcSubscriptionEndReason reason)
    {
        metrics.Closed(subscription.Topic.Name);
        metrics.Ended(subscription.Topic.Name, reason);
        if (log.IsEnabled(LogLevel.Info))
        {
            log.Info($"Subscription {subscription.Id} of {Endpoint(subscription)} to {subscription.Topic.Name} ended by the server: {RpcSubscription.EndReasonText(reason)}");
        }
    }

    public void OnAbandoned(RpcSubscription subscription) => metrics.Closed(subscription.Topic.Name);

    public void OnEvent(RpcTopicInfo topic, RpcEventOutcome outcome) => metrics.Event(topic.Name, outcome);

    public void OnFailed(RpcSubscription subscription, Exception exception) =>
        log.Error($"Topic {subscription.Topic.Name} failed for subscription {subscription.Id} of {Endpoint(subscription)}: {exception}");

    private static string Endpoint(RpcSubscription subscription) => subscription.Context.RemoteEndPoint?.ToString() ?? "unknown";
}
