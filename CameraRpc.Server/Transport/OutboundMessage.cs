using System.Net.WebSockets;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Transport;

/// <summary>
/// One item of a connection's send queue: an answer or notification in the frame type it goes out in,
/// or the close frame that ends the queue.
/// </summary>
internal readonly struct OutboundMessage
{
    private OutboundMessage(RpcResponseBuffer? buffer, WebSocketMessageType type, WebSocketCloseStatus closeStatus, string? closeDescription)
    {
        Buffer = buffer;
        Type = type;
        CloseStatus = closeStatus;
        CloseDescription = closeDescription;
    }

    public RpcResponseBuffer? Buffer { get; }

    public WebSocketMessageType Type { get; }

    public WebSocketCloseStatus CloseStatus { get; }

    public string? CloseDescription { get; }

    public bool IsClose => Buffer is null;

    public static OutboundMessage Data(RpcResponseBuffer buffer, WebSocketMessageType type) => new(buffer, type, default, null);

    public static OutboundMessage Close(WebSocketCloseStatus status, string description) =>
        new(null, WebSocketMessageType.Close, status, description);
}
