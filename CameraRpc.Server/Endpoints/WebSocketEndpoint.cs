using System.Net;
using CameraRpc.Protocol;
using CameraRpc.Server.Configuration;
using CameraRpc.Server.Hosting;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Metrics;
using CameraRpc.Server.Security;
using CameraRpc.Server.Transport;

namespace CameraRpc.Server.Endpoints;

/// <summary>
/// <c>GET {path}</c> with a WebSocket upgrade: admission (shutdown 503, origin 403, token 401,
/// <c>--max-connections</c> 503), the handshake, then the connection is served to its end.
/// </summary>
/// <remarks>
/// A connection slot is reserved during admission, before the upgrade, so the limit holds under a
/// burst of upgrades; it is given back if the upgrade does not happen, otherwise when the connection ends.
/// </remarks>
internal sealed class WebSocketEndpoint : IHttpEndpoint
{
    private readonly ServerOptions _options;
    private readonly RpcDispatcher _dispatcher;
    private readonly ConnectionRegistry _connections;
    private readonly ShutdownCoordinator _shutdown;
    private readonly RequestAuthorizer _authorizer;
    private readonly AccessControl _access;
    private readonly ServerLog _log;
    private readonly ServerMetrics _metrics;
    private int _fallbackReported;

    public WebSocketEndpoint(
        ServerOptions options, RpcDispatcher dispatcher, ConnectionRegistry connections, ShutdownCoordinator shutdown,
        RequestAuthorizer authorizer, AccessControl access, ServerLog log, ServerMetrics metrics)
    {
        _access = access;
        _options = options;
        _dispatcher = dispatcher;
        _connections = connections;
        _shutdown = shutdown;
        _authorizer = authorizer;
        _log = log;
        _metrics = metrics;
    }

    /// <summary>Answers the upgrade and starts serving the connection; returns once the connection runs on its own.</summary>
    public async Task HandleAsync(HttpListenerContext context)
    {
        if (context.Request.ProtocolVersion < HttpVersion.Version11)
        {
            // RFC 6455 section 4.1: the opening handshake is an HTTP/1.1 (or later) request.
            await HttpResponses.WriteTextAsync(context, 400, "Bad Request: a WebSocket upgrade needs HTTP/1.1").ConfigureAwait(false);
            return;
        }

        // The caller is resolved now: HttpListener cannot tell once it has let go.
        if (await AdmitAsync(context).ConfigureAwait(false) is not { } caller)
        {
            return;
        }

        UpgradedWebSocket? upgraded = await UpgradeAsync(context).ConfigureAwait(false);
        if (upgraded is null)
        {
            return; // refused by the handshake, or the client left during it
        }

        if (upgraded.Stream is null && Interlocked.Exchange(ref _fallbackReported, 1) == 0)
        {
            _log.UpgradeFellBack();
            if (_options.Compression)
            {
                _log.CompressionUnavailableOnFallback();
            }
        }

        CallAdmission? admission = _access.ForConnection(caller.Identity, caller.Address, out AddressEntry? heldEntry);
        var connection = new WebSocketConnection(
            _connections.NextId(), upgraded, caller.EndPoint, _dispatcher, _log, _metrics,
            _options.MaxMessageBytes, _options.MaxConcurrency, admission, caller.Display);

        if (_options.Compression && upgraded.OfferedExtensions is not null)
        {
            _log.CompressionAgreed(connection.RemoteEndPoint, upgraded.Deflate?.ResponseHeader, upgraded.OfferedExtensions);
        }

        // The connection is served by a task of its own that never sees the HTTP request, so that
        // HttpListener's request, response and headers are garbage from here on.
        _ = ServeAsync(connection, caller.Identity, heldEntry);
    }

    /// <summary>
    /// Admission: every check a client must pass before its upgrade, cheapest first, each answering its
    /// own refusal. The slot reservation comes last because it is the one that holds something: when this
    /// returns the caller, it owns a slot of <see cref="ConnectionRegistry"/>. The upgrade rate of the
    /// client's address (<c>--connect-rate-limit</c>, 429) is checked before the token, so that guessing
    /// tokens is rate-limited too.
    /// </summary>
    private async Task<RequestCaller?> AdmitAsync(HttpListenerContext context)
    {
        if (_shutdown.IsStopping)
        {
            await HttpResponses.WriteTextAsync(context, 503, "Service Unavailable: server shutting down").ConfigureAwait(false);
            return null;
        }

        RequestCaller caller = RequestCaller.Of(context.Request, _access);
        if (!_access.TryConnect(caller.Address, out long retryAfterMs))
        {
            _log.ConnectRateLimited(caller.Display, _options.ConnectRateLimit);
            await HttpResponses.WriteTooManyRequestsAsync(context, retryAfterMs, "over the connection rate limit").ConfigureAwait(false);
            return null;
        }

        if (await CallerCheck.CheckAsync(context, caller, _authorizer, _log, allowQueryToken: true).ConfigureAwait(false) is not { } authorized)
        {
            return null;
        }

        if (!_connections.TryReserve())
        {
            _log.ConnectionLimitReached(authorized.Display, _options.MaxConnections);
            await HttpResponses.WriteTextAsync(context, 503, "Service Unavailable: too many connections").ConfigureAwait(false);
            return null;
        }

        return authorized;
    }

    /// <summary>The RFC 6455 handshake; null when it did not happen, and then the admission's slot is given back.</summary>
    private async Task<UpgradedWebSocket?> UpgradeAsync(HttpListenerContext context)
    {
        UpgradedWebSocket? upgraded = null;
        try
        {
            if (WebSocketHandshake.Check(context.Request, out string accept) is { } refusal)
            {
                if (refusal.OfferedVersion is { } version)
                {
                    context.Response.AddHeader("Sec-WebSocket-Version", version);
                }

                await HttpResponses.WriteTextAsync(context, refusal.Status, refusal.Text).ConfigureAwait(false);
                return null;
            }

            PerMessageDeflatePolicy? compression = _options.Compression ? PerMessageDeflatePolicy.Default : null;
            upgraded = await WebSocketUpgrade.AcceptAsync(context, accept, compression, _options.KeepAliveInterval, _options.KeepAliveTimeout).ConfigureAwait(false);
            return upgraded;
        }
        finally
        {
            if (upgraded is null)
            {
                _connections.Release();
            }
        }
    }

    /// <summary>Serves one upgraded connection to its end and accounts for it. Never throws.</summary>
    private async Task ServeAsync(WebSocketConnection connection, TokenIdentity? identity, AddressEntry? heldEntry)
    {
        _connections.Add(connection);
        _metrics.ConnectionOpened();
        _log.ClientConnected(ServerLog.WithTokenName(connection.RemoteEndPoint, identity?.Name), _connections.Count);
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _access.Release(heldEntry);
            _connections.Remove(connection);
            int left = _connections.Release();
            _metrics.ConnectionClosed();
            _log.ClientDisconnected(connection.RemoteEndPoint, left);
        }
    }
}
