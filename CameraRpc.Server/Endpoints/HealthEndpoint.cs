using System.Globalization;
using System.Net;
using System.Text;
using CameraRpc.Server.Hosting;

namespace CameraRpc.Server.Endpoints;

/// <summary><c>GET /healthz</c>: 200 <c>{"status":"ok","connections":N}</c>, or 503 <c>{"status":"stopping"}</c> during shutdown.</summary>
internal sealed class HealthEndpoint(ShutdownCoordinator shutdown, ConnectionRegistry connections) : IHttpEndpoint
{
    private static readonly byte[] s_stopping = "{\"status\":\"stopping\"}"u8.ToArray();

    public Task HandleAsync(HttpListenerContext context)
    {
        if (shutdown.IsStopping)
        {
            return HttpResponses.WriteAsync(context, 503, HttpResponses.Json, s_stopping);
        }

        byte[] body = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"status\":\"ok\",\"connections\":{connections.Count}}}"));
        return HttpResponses.WriteAsync(context, 200, HttpResponses.Json, body);
    }
}
