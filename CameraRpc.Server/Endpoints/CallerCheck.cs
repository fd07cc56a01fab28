using System.Net;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Security;

namespace CameraRpc.Server.Endpoints;

/// <summary>
/// The checks every JSON-RPC request passes before anything else, WebSocket upgrade and POST alike:
/// the <c>Origin</c> allow-list (403) and the bearer token (401), resolved to its <see cref="TokenIdentity"/>.
/// Part of each endpoint's admission step.
/// </summary>
internal static class CallerCheck
{
    /// <summary>Answers 403 or 401 and returns null when the caller may not go on; otherwise the caller with its token.</summary>
    /// <param name="caller">The request's caller (its real address), before the token is checked.</param>
    /// <param name="allowQueryToken">Whether <c>?access_token=</c> counts (browsers cannot set headers on an upgrade).</param>
    public static async Task<RequestCaller?> CheckAsync(HttpListenerContext context, RequestCaller caller, RequestAuthorizer authorizer, ServerLog log, bool allowQueryToken)
    {
        HttpListenerRequest request = context.Request;
        if (!authorizer.IsOriginAllowed(request))
        {
            log.OriginRefused(caller.Display, request.Headers["Origin"]);
            await HttpResponses.WriteTextAsync(context, 403, "Forbidden: Origin not allowed").ConfigureAwait(false);
            return null;
        }

        if (!authorizer.TryAuthenticate(request, allowQueryToken, out TokenIdentity? identity))
        {
            context.Response.AddHeader("WWW-Authenticate", "Bearer");
            await HttpResponses.WriteTextAsync(context, 401, "Unauthorized: missing or wrong bearer token").ConfigureAwait(false);
            return null;
        }

        return caller with { Identity = identity };
    }
}
