using System.Globalization;
using System.Net.Http.Headers;

namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// Reads how many events of a topic the server has dropped so far, from its <c>/metrics</c>
/// (<c>camerarpc_events_total{topic,outcome="dropped"}</c>), so a fan-out run can tell whether its stalled
/// subscribers' queues did overflow or the kernel's socket buffers still held everything.
/// </summary>
internal static class ServerDroppedEvents
{
    /// <summary>The counter, or null when <c>/metrics</c> cannot be read.</summary>
    public static async Task<long?> ReadAsync(Uri webSocketUrl, string topic, string? authToken, CancellationToken cancellationToken)
    {
        var metrics = new UriBuilder(webSocketUrl) { Scheme = webSocketUrl.Scheme == "wss" ? "https" : "http", Path = "/metrics", Query = "" }.Uri;
        string prefix = $"camerarpc_events_total{{topic=\"{topic}\",outcome=\"dropped\"}} ";
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
            using var request = new HttpRequestMessage(HttpMethod.Get, metrics);
            if (authToken is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", authToken);
            }

            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            foreach (string line in text.Split('\n'))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(prefix.Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long dropped))
                {
                    return dropped;
                }
            }

            return 0;
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }
}
