using System.Net.WebSockets;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Transport;

/// <summary>
/// One item of a connection's send queue: an answer or notification in the frame type it goes out in,
/// or the close frame that ends the queue.
/// </summary>
internal readonly struct OutboundMessage
{
    private OutboundMessage(
        RpcResponseBuffer? buffer, WebSocketMessageType type, WebSocketCloseStatus closeStatus, string? closeDescription,
        RpcSubscription? subscription = null, bool isEvent = false)
    {
        Buffer = buffer;
        Type = type;
        CloseStatus = closeStatus;
        CloseDescription = closeDescription;
        Subscription = subscription;
        IsEvent = isEvent;
    }

    public RpcResponseBuffer? Buffer { get; }

    public WebSocketMessageType Type { get; }

    public WebSocketCloseStatus CloseStatus { get; }

    public string? CloseDescription { get; }

    /// <summary>A subscription's turn: the writer pulls its next message when it gets here.</summary>
    public RpcSubscription? Subscription { get; }

    /// <summary>A message pulled from a subscription (logged at debug, not info).</summary>
    public bool IsEvent { get; }

    public bool IsClose => Buffer is null && Subscription is null;

    public static OutboundMessage Data(RpcResponseBuffer buffer, WebSocketMessageType type) => new(buffer, type, default, null);

    public static OutboundMessage Pull(RpcSubscription subscription) => new(null, WebSocketMessageType.Text, default, null, subscription);

    public static OutboundMessage Event(RpcResponseBuffer buffer) => new(buffer, WebSocketMessageType.Text, default, null, null, isEvent: true);

    public static OutboundMessage Close(WebSocketCloseStatus status, string description) =>
        new(null, WebSocketMessageType.Close, status, description);
}
