using CameraRpc.Server.Tools.Client;

namespace CameraRpc.Server.Tools.Watch;

/// <summary>
/// A connection seen as whole JSON-RPC messages in both directions, answers and server notifications
/// alike: what <see cref="SubscriptionWatcher"/> needs, so its loop can be tested without a socket.
/// <see cref="RpcClient"/> is the real one.
/// </summary>
/// <remarks>One send and one receive may be in progress at once (a WebSocket's rule), never two of either.</remarks>
internal interface IRpcMessageChannel
{
    /// <summary>Sends one message (UTF-8 JSON).</summary>
    /// <exception cref="RpcConnectionException">The connection broke.</exception>
    Task SendMessageAsync(byte[] message, CancellationToken cancellationToken);

    /// <summary>The next message the server sends, whatever it is.</summary>
    /// <exception cref="RpcConnectionException">The connection closed or broke, or the server sent something that is not JSON.</exception>
    Task<RpcAnswer> ReceiveMessageAsync(CancellationToken cancellationToken);
}
