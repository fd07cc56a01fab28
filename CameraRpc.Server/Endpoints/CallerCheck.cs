using System.Net;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Security;

namespace CameraRpc.Server.Endpoints;

/// <summary>
/// The checks every JSON-RPC request passes before anything else, WebSocket upgrade and POST alike:
/// the <c>Origin</c> allow-list (403) and the bearer token (401). Part of each endpoint's admission step.
/// </summary>
internal static class CallerCheck
{
    /// <summary>Answers 403 or 401 and returns false when the caller may not go on; true otherwise.</summary>
    /// <param name="allowQueryToken">Whether <c>?access_token=</c> counts (browsers cannot set headers on an upgrade).</param>
    public static async Task<bool> PassesAsync(HttpListenerContext context, RequestAuthorizer authorizer, ServerLog log, bool allowQueryToken)
    {
        HttpListenerRequest request = context.Request;
        if (!authorizer.IsOriginAllowed(request))
        {
            log.OriginRefused(request.RemoteEndPoint, request.Headers["Origin"]);
            await HttpResponses.WriteTextAsync(context, 403, "Forbidden: Origin not allowed").ConfigureAwait(false);
            return false;
        }

        if (!authorizer.IsAuthenticated(request, allowQueryToken))
        {
            context.Response.AddHeader("WWW-Authenticate", "Bearer");
            await HttpResponses.WriteTextAsync(context, 401, "Unauthorized: missing or wrong bearer token").ConfigureAwait(false);
            return false;
        }

        return true;
    }
}
