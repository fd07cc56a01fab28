using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;

namespace CameraRpc.Tests.EndToEnd.Support;

/// <summary>One HTTP answer as the tests look at it.</summary>
public sealed record HttpAnswer(int Status, string? ContentType, string Body, HttpResponseHeaders Headers, HttpContentHeaders ContentHeaders);

/// <summary>
/// Plain HTTP requests to a live server (POST calls, /healthz, /metrics, wrong methods), and WebSocket
/// upgrade attempts that report the HTTP status the server answered instead of throwing.
/// </summary>
public static class HttpExchange
{
    public static async Task<HttpAnswer> SendAsync(
        HttpMethod method, Uri uri, string? body, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(method, uri);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        foreach ((string name, string value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using HttpResponseMessage response = await client.SendAsync(request, cancellationToken);
        string text = await response.Content.ReadAsStringAsync(cancellationToken);
        return new HttpAnswer((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), text, response.Headers, response.Content.Headers);
    }

    public static Task<HttpAnswer> PostAsync(Uri uri, string body, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Post, uri, body, cancellationToken, headers);

    public static Task<HttpAnswer> GetAsync(Uri uri, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, uri, null, cancellationToken);

    /// <summary>
    /// Tries a WebSocket upgrade; returns 101 when it succeeded (the connection is closed again at once),
    /// otherwise the status the server refused it with.
    /// </summary>
    public static async Task<int> UpgradeStatusAsync(Uri uri, CancellationToken cancellationToken, Action<ClientWebSocketOptions>? configure = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(socket.Options);
        try
        {
            await socket.ConnectAsync(uri, cancellationToken);
        }
        catch (WebSocketException)
        {
            return (int)socket.HttpStatusCode;
        }

        int status = (int)socket.HttpStatusCode;
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
        return status;
    }

    /// <summary>The <c>/healthz</c> connection count, checked to be a 200 <c>ok</c> answer.</summary>
    public static async Task<int> HealthyConnectionsAsync(Uri healthz, CancellationToken cancellationToken)
    {
        HttpAnswer answer = await GetAsync(healthz, cancellationToken);
        answer.Status.Should().Be(200, "a running server is healthy");
        using var document = System.Text.Json.JsonDocument.Parse(answer.Body);
        document.RootElement.GetProperty("status").GetString().Should().Be("ok", "a running server reports ok");
        return document.RootElement.GetProperty("connections").GetInt32();
    }

    /// <summary>A JSON-RPC call of <paramref name="method"/> without params.</summary>
    public static string Call(string method, object id) =>
        $$"""{"jsonrpc":"2.0","method":"{{method}}","id":{{(id is string s ? "\"" + s + "\"" : Convert.ToString(id, System.Globalization.CultureInfo.InvariantCulture))}}}""";

    /// <summary>The answer <c>ping</c> gives to id <paramref name="id"/>.</summary>
    public static string Pong(object id) =>
        $$"""{"jsonrpc":"2.0","result":"pong","id":{{(id is string s ? "\"" + s + "\"" : Convert.ToString(id, System.Globalization.CultureInfo.InvariantCulture))}}}""";
}
