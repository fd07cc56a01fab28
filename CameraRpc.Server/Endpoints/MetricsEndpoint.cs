using System.Net;
using System.Text;
using CameraRpc.Server.Metrics;

namespace CameraRpc.Server.Endpoints;

/// <summary><c>GET /metrics</c>: the counters in the Prometheus text format.</summary>
internal sealed class MetricsEndpoint(ServerMetrics metrics) : IHttpEndpoint
{
    public Task HandleAsync(HttpListenerContext context) =>
        HttpResponses.WriteAsync(context, 200, PrometheusFormatter.ContentType, Encoding.UTF8.GetBytes(PrometheusFormatter.Format(metrics)));
}
