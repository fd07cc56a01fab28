using System.Net;
using CameraRpc.Server.Endpoints;
using CameraRpc.Server.Logging;

namespace CameraRpc.Server.Hosting;

/// <summary>
/// Sends each HTTP request to its endpoint by path, method and upgrade (CONTRACT section 2), and
/// answers itself what no endpoint takes: 404, 405 (with <c>Allow</c>), 426 and 414.
/// </summary>
/// <remarks>
/// <see cref="Find"/> is the routing table, the one place to add an endpoint. Checks that depend on
/// the caller (token, origin, limits) are not routing: they are the endpoint's admission step.
/// Thread-safe; <see cref="HandleAsync"/> never throws.
/// </remarks>
internal sealed class RequestRouter
{
    /// <summary>Longest request target accepted (path and query); longer gets 414.</summary>
    internal const int MaxUrlLength = 8 * 1024;

    private readonly string _rpcPath;
    private readonly IHttpEndpoint _webSocket;
    private readonly IHttpEndpoint _httpRpc;
    private readonly IHttpEndpoint _health;
    private readonly IHttpEndpoint _metrics;
    private readonly ServerLog _log;

    /// <param name="rpcPath">The JSON-RPC path (<c>--path</c>).</param>
    public RequestRouter(string rpcPath, IHttpEndpoint webSocket, IHttpEndpoint httpRpc, IHttpEndpoint health, IHttpEndpoint metrics, ServerLog log)
    {
        _rpcPath = rpcPath;
        _webSocket = webSocket;
        _httpRpc = httpRpc;
        _health = health;
        _metrics = metrics;
        _log = log;
    }

    /// <summary>The routing table: which endpoint answers <paramref name="method"/> on <paramref name="path"/>, or which refusal.</summary>
    /// <param name="upgrade">Whether the request asks for a WebSocket upgrade.</param>
    public Route Find(string path, string method, bool upgrade)
    {
        // The JSON-RPC path comes first, so that --path may be any path, even one of the fixed ones.
        if (path == _rpcPath)
        {
            return method switch
            {
                "GET" when upgrade => Route.To(_webSocket),
                "GET" => Route.UpgradeRequired,
                "POST" => Route.To(_httpRpc),
                _ => Route.MethodNotAllowed("GET, POST"),
            };
        }

        return path switch
        {
            "/healthz" => ReadOnly(_health, method),
            "/metrics" => ReadOnly(_metrics, method),
            _ => Route.NotFound,
        };
    }

    /// <summary>Answers one request through its endpoint or with its refusal. Never throws.</summary>
    public async Task HandleAsync(HttpListenerContext context)
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

            Route route = Find(request.Url?.AbsolutePath ?? "/", request.HttpMethod, request.IsWebSocketRequest);
            if (route.Endpoint is { } endpoint)
            {
                await endpoint.HandleAsync(context).ConfigureAwait(false);
            }
            else
            {
                await RefuseAsync(context, route).ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            // One request's failure must never take the accept loop (or anyone else) with it.
            _log.RequestFailed(exception);
            HttpResponses.Abort(context);
        }
    }

    /// <summary>GET and HEAD (a HEAD answer is the GET answer's headers); anything else 405.</summary>
    private static Route ReadOnly(IHttpEndpoint endpoint, string method) =>
        method is "GET" or "HEAD" ? Route.To(endpoint) : Route.MethodNotAllowed("GET");

    private static Task RefuseAsync(HttpListenerContext context, Route route)
    {
        switch (route.Status)
        {
            case 405:
                context.Response.AddHeader("Allow", route.Allow ?? "GET");
                return HttpResponses.WriteTextAsync(context, 405, "Method Not Allowed");
            case 426:
                context.Response.AddHeader("Upgrade", "websocket");
                return HttpResponses.WriteTextAsync(context, 426, "Upgrade Required: connect with a WebSocket client, or POST a JSON-RPC request");
            default:
                return HttpResponses.WriteTextAsync(context, 404, "Not Found");
        }
    }
}
