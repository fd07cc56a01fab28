using System.Net;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace CameraRpc.Server.Transport;

/// <summary>
/// Upgrades an <see cref="HttpListenerContext"/> to a WebSocket whose byte stream is ours: buffered
/// reads, coalesced writes (<see cref="ConnectionStream"/>), and a keep-alive that detects dead peers.
/// </summary>
/// <remarks>
/// HttpListener does the handshake (request checks, 101 response) and hands back a WebSocket over the
/// connection's raw stream, with no way to shape that stream or to set a keep-alive timeout. We take
/// the stream from it and build the connection's real WebSocket with
/// <see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/> over a
/// <see cref="ConnectionStream"/>. The stream is reached with an <see cref="UnsafeAccessorAttribute"/>
/// (resolved at compile time, no reflection, AOT-safe); the executable is self-contained, so the
/// runtime it targets cannot change under it, and should the field ever be missing the plain WebSocket
/// is used instead.
/// <para>HttpListener's own WebSocket must stay referenced until the connection ends and then be
/// disposed: its finalizer closes the HttpListenerResponse, which writes to and reads from the same
/// socket (a dropped reference corrupts a live connection at the next GC), and its disposal is what
/// closes the socket and unregisters the context.</para>
/// </remarks>
internal static class WebSocketUpgrade
{
    /// <summary>How often an idle connection is pinged.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may go unanswered before the connection is dropped as dead.</summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(20);

    private static bool s_streamUnavailable;

    /// <summary>Completes the handshake and returns the connection's WebSocket and, when available, its stream.</summary>
    /// <exception cref="WebSocketException">The upgrade request is malformed.</exception>
    public static async Task<UpgradedWebSocket> AcceptAsync(HttpListenerContext context)
    {
        // No keep-alive timer on HttpListener's own WebSocket: it is set aside at once.
        HttpListenerWebSocketContext upgraded = await context.AcceptWebSocketAsync(
            subProtocol: null, receiveBufferSize: 4096, keepAliveInterval: TimeSpan.Zero).ConfigureAwait(false);
        WebSocket listenerSocket = upgraded.WebSocket;
        if (s_streamUnavailable)
        {
            return new UpgradedWebSocket(listenerSocket, null, listenerSocket);
        }

        Stream raw;
        try
        {
            // HttpListener hands out its WebSocket wrapped (so that disposing it also closes the
            // context); the ManagedWebSocket with the stream is inside.
            raw = RawStream(WrappedSocket(listenerSocket));
        }
        catch (Exception exception) when (exception is MissingFieldException or MissingMemberException or TypeLoadException or InvalidCastException or NotSupportedException)
        {
            s_streamUnavailable = true;
            return new UpgradedWebSocket(listenerSocket, null, listenerSocket);
        }

        ReleaseRequestBuffers(context);
        var stream = new ConnectionStream(raw);
        WebSocket socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
        {
            IsServer = true,
            KeepAliveInterval = KeepAliveInterval,
            KeepAliveTimeout = KeepAliveTimeout,
        });
        // The wrapper is kept (its disposal closes the context and the socket), but what it wraps is now
        // our WebSocket: HttpListener's own, never to be used, can go (about 1 KiB per connection).
        WrappedSocket(listenerSocket) = socket;
        return new UpgradedWebSocket(socket, stream, listenerSocket);
    }

    /// <summary>
    /// HttpListener keeps an 8 KiB request buffer (and a line builder) per connection for reading the
    /// next request; an upgraded connection never reads another, so they are dropped. Both are
    /// recreated on demand should HttpListener read again.
    /// </summary>
    private static void ReleaseRequestBuffers(HttpListenerContext context)
    {
        try
        {
            object connection = ListenerConnection(context);
            RequestBuffer(connection) = null;
            RequestLine(connection) = null;
        }
        catch (Exception exception) when (exception is MissingFieldException or MissingMemberException or TypeLoadException or InvalidCastException or NotSupportedException)
        {
            // Only memory is at stake.
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Connection")]
    [return: UnsafeAccessorType("System.Net.HttpConnection, System.Net.HttpListener")]
    private static extern object ListenerConnection(HttpListenerContext context);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_buffer")]
    private static extern ref byte[]? RequestBuffer([UnsafeAccessorType("System.Net.HttpConnection, System.Net.HttpListener")] object connection);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_currentLine")]
    private static extern ref System.Text.StringBuilder? RequestLine([UnsafeAccessorType("System.Net.HttpConnection, System.Net.HttpListener")] object connection);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_inner")]
    private static extern ref WebSocket WrappedSocket(
        [UnsafeAccessorType("System.Net.WebSockets.HttpWebSocket+HttpListenerWrappedWebSocket, System.Net.HttpListener")] object webSocket);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_stream")]
    private static extern ref Stream RawStream(
        [UnsafeAccessorType("System.Net.WebSockets.ManagedWebSocket, System.Net.WebSockets")] object webSocket);
}

/// <summary>
/// The result of an upgrade: the WebSocket to serve, its stream (null on the fallback path), and
/// HttpListener's WebSocket, which owns the socket and is disposed last.
/// </summary>
internal sealed record UpgradedWebSocket(WebSocket Socket, ConnectionStream? Stream, WebSocket ListenerSocket);
