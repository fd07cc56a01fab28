using System.Net;
using System.Text;

namespace CameraRpc.Server.Endpoints;

/// <summary>Small helpers that finish an HTTP response; every endpoint ends through one of them.</summary>
internal static class HttpResponses
{
    public const string Json = "application/json";

    /// <summary>Writes <paramref name="body"/> with a status and content type, then closes the response.</summary>
    public static async Task WriteAsync(HttpListenerContext context, int status, string? contentType, ReadOnlyMemory<byte> body)
    {
        HttpListenerResponse response = context.Response;
        try
        {
            response.StatusCode = status;
            if (contentType is not null)
            {
                response.ContentType = contentType;
            }

            // A HEAD answer has the headers of the GET answer, Content-Length included, and no body.
            response.ContentLength64 = body.Length;
            if (body.Length > 0 && context.Request.HttpMethod != "HEAD")
            {
                await response.OutputStream.WriteAsync(body).ConfigureAwait(false);
            }

            response.Close();
        }
        catch (Exception exception) when (exception is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client went away before its answer; nothing to tell it.
            response.Abort();
        }
    }

    /// <summary>A status with a short plain-text explanation (for people reading it with curl).</summary>
    public static Task WriteTextAsync(HttpListenerContext context, int status, string text) =>
        WriteAsync(context, status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text + "\n"));

    /// <summary>Drops the response without an answer (the connection is reset).</summary>
    public static void Abort(HttpListenerContext context)
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

    /// <summary>429 with <c>Retry-After</c> in whole seconds, rounded up, at least 1 (contract section 8).</summary>
    public static Task WriteTooManyRequestsAsync(HttpListenerContext context, long retryAfterMs, string what)
    {
        context.Response.AddHeader("Retry-After", Security.AccessControl.RetryAfterSeconds(retryAfterMs).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return WriteTextAsync(context, 429, "Too Many Requests: " + what);
    }
}
