using System.Globalization;
using System.Net;
using System.Text;

namespace CameraRpc.Server.Endpoints;

/// <summary><c>GET /healthz</c>: 200 <c>{"status":"ok","connections":N}</c>, or 503 <c>{"status":"stopping"}</c> during shutdown.</summary>
internal static class HealthEndpoint
{
    private static readonly byte[] s_stopping = "{\"status\":\"stopping\"}"u8.ToArray();

    public static Task HandleAsync(HttpListenerContext context, bool stopping, int connections)
    {
        if (stopping)
        {
            return HttpResponses.WriteAsync(context, 503, HttpResponses.Json, s_stopping);
        }

        byte[] body = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"status\":\"ok\",\"connections\":{connections}}}"));
        return HttpResponses.WriteAsync(context, 200, HttpResponses.Json, body);
    }
}
