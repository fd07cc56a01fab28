using CameraRpc.Protocol;
using CameraRpc.Server.Logging;

namespace CameraRpc.Server.Subscriptions;

/// <summary>
/// The server's eyes on subscriptions: the metrics of <see cref="SubscriptionMetrics"/> and the log
/// events of <see cref="ServerLog"/> (subscribe, unsubscribe and server-ended subscriptions at info, a
/// topic's failure at error). Events are counted here and logged at debug by the transport.
/// </summary>
internal sealed class SubscriptionObserver(ServerLog log, SubscriptionMetrics metrics) : IRpcSubscriptionObserver
{
    public void OnOpening(RpcSubscription subscription) => metrics.Opened(subscription.Topic.Name);

    public void OnSubscribed(RpcSubscription subscription)
    {
        if (log.IsEnabled(LogLevel.Info))
        {
            log.Subscribed(Endpoint(subscription), subscription.Topic.Name, subscription.Id);
        }
    }

    public void OnUnsubscribed(RpcSubscription subscription)
    {
        metrics.Closed(subscription.Topic.Name);
        if (log.IsEnabled(LogLevel.Info))
        {
            log.Unsubscribed(Endpoint(subscription), subscription.Topic.Name, subscription.Id);
        }
    }

    public void OnEnded(RpcSubscription subscription, RpcSubscriptionEndReason reason)
    {
        metrics.Closed(subscription.Topic.Name);
        metrics.Ended(subscription.Topic.Name, reason);
        if (log.IsEnabled(LogLevel.Info))
        {
            log.SubscriptionEnded(Endpoint(subscription), subscription.Topic.Name, subscription.Id, RpcSubscription.EndReasonText(reason));
        }
    }

    public void OnAbandoned(RpcSubscription subscription) => metrics.Closed(subscription.Topic.Name);

    public void OnEvent(RpcTopicInfo topic, RpcEventOutcome outcome) => metrics.Event(topic.Name, outcome);

    public void OnFailed(RpcSubscription subscription, Exception exception) =>
        log.TopicFailed(Endpoint(subscription), subscription.Topic.Name, subscription.Id, exception);

    private static string Endpoint(RpcSubscription subscription) => subscription.Context.RemoteEndPoint?.ToString() ?? "unknown";
}
