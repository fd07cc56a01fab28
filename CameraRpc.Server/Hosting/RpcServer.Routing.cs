using System.Net;
using System.Net.WebSockets;
using CameraRpc.Server.Endpoints;
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
            else if (_options.Console && ConsoleEndpoint.Serves(path))
            {
                await ConsoleEndpoint.HandleAsync(context, path, _options.Path).ConfigureAwait(false);
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

    private async Task<bool> RefuseAsync(HttpListenerContext context, bool allowQueryToken)
    {
        HttpListenerRequest request = context.Request;
        if (!_authorizer.IsOriginAllowed(request))
        {
            _log.Warning($"Refused {request.RemoteEndPoint}: Origin '{request.Headers["Origin"]}' is not allowed");
            await HttpResponses.WriteTextAsync(context, 403, "Forbidden: Origin not allowed").ConfigureAwait(false);
            return true;
        }

        if (!_authorizer.IsAuthenticated(request, allowQueryToken))
        {
            context.Response.AddHeader("WWW-Authenticate", "Bearer");
            await HttpResponses.WriteTextAsync(context, 401, "Unauthorized: missing or wrong bearer token").ConfigureAwait(false);
            return true;
        }

        return false;
    }

    private async Task AcceptWebSocketAsync(HttpListenerContext context)
    {
        if (_stopping)
        {
            await HttpResponses.WriteTextAsync(context, 503, "Service Unavailable: server shutting down").ConfigureAwait(false);
            return;
        }

        if (await RefuseAsync(context, allowQueryToken: true).ConfigureAwait(false))
        {
            return;
        }

        if (!_connections.TryReserve())
        {
            _log.Warning($"Refused {context.Request.RemoteEndPoint}: at --max-connections ({_options.MaxConnections})");
            await HttpResponses.WriteTextAsync(context, 503, "Service Unavailable: too many connections").ConfigureAwait(false);
            return;
        }

        IPEndPoint? remoteEndPoint = context.Request.RemoteEndPoint; // HttpListener cannot tell once it has let go
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

        var connection = new WebSocketConnection(
            _connections.NextId(), upgraded, remoteEndPoint, Dispatcher, _log, _metrics,
            _options.MaxMessageBytes, _options.MaxConcurrency);

        // The connection is served by a task of its own that never sees the HTTP request, so that
        // HttpListener's request, response and headers are garbage from here on.
        _ = ServeAsync(connection);
    }

    /// <summary>Serves one upgraded connection to its end and accounts for it. Never throws.</summary>
    private async Task ServeAsync(WebSocketConnection connection)
    {
        _connections.Add(connection);
        _metrics.ConnectionOpened();
        _log.ClientConnected(connection.RemoteEndPoint, _connections.Count);
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _connections.Remove(connection);
            int left = _connections.Release();
            _metrics.ConnectionClosed();
            _log.ClientDisconnected(connection.RemoteEndPoint, left);
        }
    }

    private async Task HandlePostAsync(HttpListenerContext context)
    {
        if (await RefuseAsync(context, allowQueryToken: false).ConfigureAwait(false))
        {
            return;
        }

        Interlocked.Increment(ref _httpCallsInFlight);
        try
        {
            (int received, int sent) = await _httpEndpoint.HandleAsync(context, _connections.NextId(), _httpCalls.Token).ConfigureAwait(false);
            _metrics.AddReceivedBytes(received);
            _metrics.AddSentBytes(sent);
        }
        finally
        {
            Interlocked.Decrement(ref _httpCallsInFlight);
        }
    }
}
