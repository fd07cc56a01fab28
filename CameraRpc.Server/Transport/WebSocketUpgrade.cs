using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace CameraRpc.Server.Transport;

/// <summary>
/// Turns an accepted upgrade request into the connection's WebSocket: takes the TCP connection over
/// from HttpListener, answers <c>101</c> on it, and runs the WebSocket over a
/// <see cref="ConnectionStream"/> (buffered reads, coalesced writes) with a keep-alive that detects
/// dead peers.
/// </summary>
/// <remarks>
/// <para>HttpListener's own <c>AcceptWebSocketAsync</c> would give a WebSocket over the raw stream,
/// with no way to shape that stream or to time out a dead peer; it would also load OpenSSL for the
/// handshake's SHA-1 (3.7 MiB of resident memory), and keep the request, its headers, a copy of them
/// and the response alive for as long as the connection lasts (several KiB per connection). So the
/// handshake is ours (<see cref="WebSocketHandshake"/>), and once the request is checked the
/// connection is detached from HttpListener: it forgets the socket (it will neither time it out nor
/// close it, even at <see cref="HttpListener.Stop"/>), and everything it kept for the request can be
/// collected. From then on the socket belongs to the <see cref="ConnectionStream"/>, whose disposal
/// closes it.</para>
/// <para>HttpListener's internals are reached with <see cref="UnsafeAccessorAttribute"/> (bound at
/// compile time, no reflection, AOT-safe); the executable is self-contained, so the runtime it targets
/// cannot change under it. Should a member ever be missing, HttpListener's own WebSocket is used
/// instead: slower and heavier, still correct. That fallback is counted (<see cref="FallbackCount"/>,
/// with <see cref="FallbackReason"/>), the host logs it once at warning level, and a test fails on
/// it, so that a runtime update that breaks the take-over does not go unnoticed.</para>
/// </remarks>
internal static class WebSocketUpgrade
{
    private const string HttpConnectionType = "System.Net.HttpConnection, System.Net.HttpListener";

    private static volatile bool s_takeOverUnavailable;
    private static long s_takeOverCount;
    private static long s_fallbackCount;
    private static string? s_fallbackReason;

    /// <summary>Connections taken over from HttpListener since the process started (the intended path).</summary>
    internal static long TakeOverCount => Interlocked.Read(ref s_takeOverCount);

    /// <summary>Connections served by HttpListener's own WebSocket since the process started (the fallback).</summary>
    internal static long FallbackCount => Interlocked.Read(ref s_fallbackCount);

    /// <summary>Why the take-over is unavailable (the missing member), or null while it works.</summary>
    internal static string? FallbackReason => Volatile.Read(ref s_fallbackReason);

    /// <summary>
    /// Completes the handshake of a request that <see cref="WebSocketHandshake.Check"/> accepted and
    /// returns the connection's WebSocket; null when the client went away during the handshake (its
    /// socket is closed). The WebSocket pings the client every <paramref name="keepAliveInterval"/> and
    /// drops it when a ping goes unanswered for <paramref name="keepAliveTimeout"/>. With a
    /// <paramref name="compression"/> policy (null: <c>--compression off</c>), a permessage-deflate
    /// offer is answered in the <c>101</c> and the WebSocket compresses (<see cref="PerMessageDeflateNegotiation"/>).
    /// </summary>
    public static async Task<UpgradedWebSocket?> AcceptAsync(
        HttpListenerContext context, string accept, PerMessageDeflatePolicy? compression, TimeSpan keepAliveInterval, TimeSpan keepAliveTimeout)
    {
        string? offered = context.Request.Headers["Sec-WebSocket-Extensions"];
        if (!s_takeOverUnavailable && TakeOver(context) is { } raw)
        {
            PerMessageDeflateAgreement? deflate = compression is null ? null : PerMessageDeflateNegotiation.Negotiate(offered, compression);
            Interlocked.Increment(ref s_takeOverCount);
            var stream = new ConnectionStream(raw);
            try
            {
                await stream.WriteAsync(WebSocketHandshake.SwitchingProtocols(accept, deflate?.ResponseHeader)).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or ObjectDisposedException)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                return null;
            }

            // Uncompressed connections (nearly all) get the server's own framing, straight over the read
            // buffer and the outbound batch; compressed ones keep the runtime's WebSocket and its inflater.
            WebSocket socket = deflate is null
                ? new ServerWebSocket(stream, keepAliveInterval, keepAliveTimeout)
                : WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
                {
                    IsServer = true,
                    KeepAliveInterval = keepAliveInterval,
                    KeepAliveTimeout = keepAliveTimeout,
                    DangerousDeflateOptions = deflate.Options,
                });
            return new UpgradedWebSocket(socket, stream, null, deflate, offered);
        }

        Interlocked.Increment(ref s_fallbackCount);

        // Fallback: HttpListener's WebSocket, whose disposal closes the context and the socket. It must
        // stay referenced until the connection ends (its finalizer closes the response, which would
        // write into the live connection). It cannot compress: its 101 is HttpListener's, without
        // Sec-WebSocket-Extensions, so any offer is declined.
        HttpListenerWebSocketContext upgraded = await context.AcceptWebSocketAsync(
            subProtocol: null, receiveBufferSize: 4096, keepAliveInterval: keepAliveInterval).ConfigureAwait(false);
        return new UpgradedWebSocket(upgraded.WebSocket, null, upgraded.WebSocket, null, offered);
    }

    /// <summary>
    /// Detaches the connection from HttpListener and returns its stream (which does not own the
    /// socket; <see cref="ConnectionStream"/> closes it), or null when HttpListener's internals are
    /// not what this build expects.
    /// </summary>
    private static NetworkStream? TakeOver(HttpListenerContext context)
    {
        try
        {
            object connection = ListenerConnection(context);
            if (ConnectedStream(connection) is not NetworkStream stream)
            {
                Unavailable("HttpConnection.ConnectedStream is not a NetworkStream");
                return null;
            }

            // In this order: with no socket HttpListener's Close() does nothing; unbinding drops the
            // request from the listener's list of contexts; removing drops the connection from its list
            // of connections (the one Stop() closes). Its request timer (already stopped) is disposed:
            // a timer left to its finalizer would keep the connection, its 8 KiB request buffer and the
            // request's headers alive through a GC, into an older generation that is rarely collected.
            ListenerSocket(connection) = null;
            Unbind(connection);
            RemoveConnection(connection);
            RequestTimer(connection).Dispose();
            RequestBuffer(connection) = null;
            return stream;
        }
        catch (Exception exception) when (exception is MissingFieldException or MissingMethodException or MissingMemberException or TypeLoadException or InvalidCastException or NotSupportedException)
        {
            Unavailable($"{exception.GetType().Name}: {exception.Message}");
            return null;
        }
    }

    private static void Unavailable(string reason)
    {
        Volatile.Write(ref s_fallbackReason, reason);
        s_takeOverUnavailable = true;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Connection")]
    [return: UnsafeAccessorType(HttpConnectionType)]
    private static extern object ListenerConnection(HttpListenerContext context);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_ConnectedStream")]
    private static extern Stream ConnectedStream([UnsafeAccessorType(HttpConnectionType)] object connection);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_socket")]
    private static extern ref Socket? ListenerSocket([UnsafeAccessorType(HttpConnectionType)] object connection);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_timer")]
    private static extern ref Timer RequestTimer([UnsafeAccessorType(HttpConnectionType)] object connection);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_buffer")]
    private static extern ref byte[]? RequestBuffer([UnsafeAccessorType(HttpConnectionType)] object connection);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Unbind")]
    private static extern void Unbind([UnsafeAccessorType(HttpConnectionType)] object connection);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "RemoveConnection")]
    private static extern void RemoveConnection([UnsafeAccessorType(HttpConnectionType)] object connection);
}

/// <summary>
/// The result of an upgrade: the WebSocket to serve, its stream (null on the fallback path), on the
/// fallback path HttpListener's WebSocket, which owns the socket and is disposed last, the
/// permessage-deflate agreed (null: none) and what the client offered (for the log).
/// </summary>
internal sealed record UpgradedWebSocket(
    WebSocket Socket, ConnectionStream? Stream, WebSocket? ListenerSocket, PerMessageDeflateAgreement? Deflate, string? OfferedExtensions);
