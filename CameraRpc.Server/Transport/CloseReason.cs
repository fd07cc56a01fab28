namespace CameraRpc.Server.Transport;

/// <summary>Why a WebSocket connection's read loop ended; decides how the connection is wound down.</summary>
internal enum CloseReason
{
    /// <summary>The client sent a close frame (first, or in answer to ours): a clean close handshake.</summary>
    PeerClosed,

    /// <summary>A message grew past <c>--max-message-bytes</c>: closed with 1009.</summary>
    MessageTooBig,

    /// <summary>The connection broke: reset, protocol error, invalid UTF-8 (the WebSocket already sent 1002 or 1007), or abort.</summary>
    Faulted,
}
