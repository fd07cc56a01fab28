using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using CameraRpc.Server.Endpoints;
using CameraRpc.Server.Security;
using CameraRpc.Server.Transport;

namespace CameraRpc.Server.Hosting;

internal sealed partial class RpcServer
{
    /// <summary>Longest request target accepted (path and query); longer gets 414.</summary>
    private const int MaxUrlLength = 8 * 1024;

    private int _fallbackReported;

    /// <summary>Routes one HTTP request by path and method (CONTRACT section 2). Never throws.</summary>
    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            HttpListenerRequest request = context.Request;
            if (request.RawUrl is { Length: > MaxUrlLength })
            {
                // No endpoint takes anything near this; a huge URL is an attack or a broken client.
                await HttpResponses.WriteTextAsync(context, 414, "URI Too Long").ConfigureAwait(false);
                return;
            }

            string path = request.Url?.AbsolutePath ?? "/";
            string method = request.HttpMethod;

            if (path == _options.Path)
            {
                if (method == "GET")
                {
                    if (request.IsWebSocketRequest && request.ProtocolVersion < HttpVersion.Version11)
                    {
                        // RFC 6455 section 4.1: the opening handshake is an HTTP/1.1 (or later) request.
                        await HttpResponses.WriteTextAsync(context, 400, "Bad Request: a WebSocket upgrade needs HTTP/1.1").ConfigureAwait(false);
                    }
                    else if (request.IsWebSocketRequest)
                    {
                        await AcceptWebSocketAsync(context).ConfigureAwait(false);
                    }
                    else
                    {
                        context.Response.AddHeader("Upgrade", "websocket");
                        await HttpResponses.WriteTextAsync(context, 426, "Upgrade Required: connect with a WebSocket client, or POST a JSON-RPC request").ConfigureAwait(false);
                    }
                }
                else if (method == "POST")
                {
                    await HandlePostAsync(context).ConfigureAwait(false);
                }
                else
                {
                    context.Response.AddHeader("Allow", "GET, POST");
                    await HttpResponses.WriteTextAsync(context, 405, "Method Not Allowed").ConfigureAwait(false);
                }
            }
            else if (path is "/healthz" or "/metrics")
            {
                if (method is not ("GET" or "HEAD"))
                {
                    context.Response.AddHeader("Allow", "GET");
                    await HttpResponses.WriteTextAsync(context, 405, "Method Not Allowed").ConfigureAwait(false);
                }
                else if (path == "/healthz")
                {
                    await HealthEndpoint.HandleAsync(context, _stopping, _connections.Count).ConfigureAwait(false);
                }
                else
                {
                    await MetricsEndpoint.HandleAsync(context, _metrics).ConfigureAwait(false);
                }
            }
            else
            {
                await HttpResponses.WriteTextAsync(context, 404, "Not Found").ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (_httpCalls.IsCancellationRequested && exception is OperationCanceledException or IOException or HttpListenerException)
        {
            // Shutdown ran out of time while the request was still arriving (its read ends with one of
            // these when the listener stops): there is no call to answer, and nothing went wrong.
            AbortResponse(context);
        }
        catch (Exception exception)
        {
            // One request's failure must never take the accept loop (or anyone else) with it.
            _log.Error($"Request failed: {exception.GetType().Name}: {exception.Message}");
            AbortResponse(context);
        }
    }

    private static void AbortResponse(HttpListenerContext context)
    {
        try
        {
            context.Response.Abort();
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }
    }

    /// <summary>The Origin rule and the token (401/403 here); the caller with its token, or null when refused.</summary>
    private async Task<RequestCaller?> AuthorizeAsync(HttpListenerContext context, RequestCaller caller, bool allowQueryToken)
    {
        HttpListenerRequest request = context.Request;
        if (!_authorizer.IsOriginAllowed(request))
        {
            _log.Warning($"Refused {caller.Display}: Origin '{request.Headers["Origin"]}' is not allowed");
            await HttpResponses.WriteTextAsync(context, 403, "Forbidden: Origin not allowed").ConfigureAwait(false);
            return null;
        }

        if (!_authorizer.TryAuthenticate(request, allowQueryToken, out TokenIdentity? identity))
        {
            context.Response.AddHeader("WWW-Authenticate", "Bearer");
            await HttpResponses.WriteTextAsync(context, 401, "Unauthorized: missing or wrong bearer token").ConfigureAwait(false);
            return null;
        }

        return caller with { Identity = identity };
    }

    /// <summary>429 with <c>Retry-After</c> in whole seconds (at least 1).</summary>
    internal static Task WriteTooManyRequestsAsync(HttpListenerContext context, long retryAfterMs, string what)
    {
        context.Response.AddHeader("Retry-After", AccessControl.RetryAfterSeconds(retryAfterMs).ToString(CultureInfo.InvariantCulture));
        return HttpResponses.WriteTextAsync(context, 429, "Too Many Requests: " + what);
    }

    private async Task AcceptWebSocketAsync(HttpListenerContext context)
    {
        if (_stopping)
        {
            await HttpResponses.WriteTextAsync(context, 503, "Service Unavailable: server shutting down").ConfigureAwait(false);
            return;
        }

        RequestCaller caller = RequestCaller.Of(context.Request, _access);
        if (!_access.TryConnect(caller.Address, out long retryAfterMs))
        {
            _log.Debug($"Refused {caller.Display}: over --connect-rate-limit ({_options.ConnectRateLimit}/s)");
            await WriteTooManyRequestsAsync(context, retryAfterMs, "over the connection rate limit").ConfigureAwait(false);
            return;
        }

        if (await AuthorizeAsync(context, caller, allowQueryToken: true).ConfigureAwait(false) is not { } authorized)
        {
            return;
        }

        caller = authorized;
        if (!_connections.TryReserve())
        {
            _log.Warning($"Refused {caller.Display}: at --max-connections ({_options.MaxConnections})");
            await HttpResponses.WriteTextAsync(context, 503, "Service Unavailable: too many connections").ConfigureAwait(false);
            return;
        }

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
                return;
            }

            upgraded = await WebSocketUpgrade.AcceptAsync(context, accept, _options.KeepAliveInterval, _options.KeepAliveTimeout).ConfigureAwait(false);
        }
        finally
        {
            if (upgraded is null)
            {
                _connections.Release();
            }
        }

        if (upgraded is null)
        {
            return; // the client left during the handshake
        }

        if (upgraded.Stream is null && Interlocked.Exchange(ref _fallbackReported, 1) == 0)
        {
            _log.Warning("WebSockets run over HttpListener's own stream (its connection could not be taken over): expected only on a different .NET runtime; slower, still correct");
        }

        CallAdmission? admission = _access.ForConnection(caller.Identity, caller.Address, out AddressEntry? heldEntry);
        var connection = new WebSocketConnection(
            _connections.NextId(), upgraded, caller.EndPoint, Dispatcher, _log, _metrics,
            _options.MaxMessageBytes, _options.MaxConcurrency, admission, caller.Display);

        // The connection is served by a task of its own that never sees the HTTP request, so that
        // HttpListener's request, response and headers are garbage from here on.
        _ = ServeAsync(connection, caller.Identity, heldEntry);
    }

    /// <summary>Serves one upgraded connection to its end and accounts for it. Never throws.</summary>
    private async Task ServeAsync(WebSocketConnection connection, TokenIdentity? identity, AddressEntry? heldEntry)
    {
        _connections.Add(connection);
        _metrics.ConnectionOpened();

        // The token's name (never the token) tells the operator who connected.
        _log.ClientConnected(identity is null ? connection.RemoteEndPoint : $"{connection.RemoteEndPoint} as '{identity.Name}'", _connections.Count);
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

    private async Task HandlePostAsync(HttpListenerContext context)
    {
        if (await AuthorizeAsync(context, RequestCaller.Of(context.Request, _access), allowQueryToken: false).ConfigureAwait(false) is not { } caller)
        {
            return;
        }

        Interlocked.Increment(ref _httpCallsInFlight);
        try
        {
            (int received, int sent) = await _httpEndpoint.HandleAsync(context, _connections.NextId(), caller, _httpCalls.Token).ConfigureAwait(false);
            _metrics.AddReceivedBytes(received);
            _metrics.AddSentBytes(sent);
        }
        finally
        {
            Interlocked.Decrement(ref _httpCallsInFlight);
        }
    }
}
