using System.Diagnostics.CodeAnalysis;
using CameraRpc.Protocol;
using CameraRpc.Server.Logging;

namespace CameraRpc.Server.Transport;

/// <summary>
/// One subscription as the connection's <see cref="OutboundWriter"/> sees it: a source the writer pulls
/// one event from per turn. The subscription keeps its own bound (its topic's capacity and policy), so a
/// client that stops reading holds at most that many events per subscription, plus the one message the
/// writer has in hand.
/// </summary>
/// <remarks>Made once per subscription, on its first schedule, and kept in <see cref="RpcSubscription.TransportState"/>.</remarks>
internal sealed class SubscriptionSource(RpcSubscription subscription, ServerLog log, string remoteEndPoint) : IOutboundSource
{
    public bool TryTakeNext([NotNullWhen(true)] out RpcResponseBuffer? message)
    {
        if (!subscription.TryTakeNext(out message))
        {
            return false;
        }

        log.SendingEvent(remoteEndPoint, message.WrittenSpan);
        return true;
    }
}
