using System.Net.WebSockets;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Transport;

/// <summary>
/// One item of a connection's send queue: a finished message (an answer or notification in the frame
/// type it goes out in), a scheduled <see cref="IOutboundSource"/> to pull from, or the close frame
/// that ends the queue.
/// </summary>
internal readonly struct OutboundMessage
{
    private OutboundMessage(
        OutboundKind kind, RpcResponseBuffer? buffer, WebSocketMessageType type, bool counted,
        IOutboundSource? source, WebSocketCloseStatus closeStatus, string? closeDescription)
    {
        Kind = kind;
        Buffer = buffer;
        Type = type;
        Counted = counted;
        Source = source;
        CloseStatus = closeStatus;
        CloseDescription = closeDescription;
    }

    public OutboundKind Kind { get; }

    public RpcResponseBuffer? Buffer { get; }

    public WebSocketMessageType Type { get; }

    /// <summary>True when the buffer's bytes count against the connection's send-queue cap.</summary>
    public bool Counted { get; }

    public IOutboundSource? Source { get; }

    public WebSocketCloseStatus CloseStatus { get; }

    public string? CloseDescription { get; }

    public bool IsClose => Kind == OutboundKind.Close;

    /// <summary>A finished message, queued by <see cref="OutboundWriter.Enqueue"/>.</summary>
    public static OutboundMessage Data(RpcResponseBuffer buffer, WebSocketMessageType type) =>
        new(OutboundKind.Data, buffer, type, counted: true, null, default, null);

    /// <summary>A message just taken from a source; bounded by the source, not by the queue cap.</summary>
    public static OutboundMessage Pulled(RpcResponseBuffer buffer) =>
        new(OutboundKind.Data, buffer, WebSocketMessageType.Text, counted: false, null, default, null);

    /// <summary>A source to take the next message from when this item's turn comes.</summary>
    public static OutboundMessage Pull(IOutboundSource source) =>
        new(OutboundKind.Pull, null, WebSocketMessageType.Text, counted: false, source, default, null);

    public static OutboundMessage Close(WebSocketCloseStatus status, string description) =>
        new(OutboundKind.Close, null, WebSocketMessageType.Close, counted: false, null, status, description);
}

/// <summary>What an <see cref="OutboundMessage"/> holds.</summary>
internal enum OutboundKind : byte
{
    Data,
    Pull,
    Close,
}
