using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using CameraRpc.Server.Tools.WebSockets;

namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// <c>bench --compression</c>: the connections are the runtime's <see cref="ClientWebSocket"/> offering
/// permessage-deflate as browsers do, because the self-framed path does not compress. Each connection's
/// loop sends one message per request (the runtime's rule), so the figures include that cost; compare
/// compressed with uncompressed runs of this path only. Requests under 256 bytes go uncompressed
/// (<see cref="OutgoingCompression"/>), as the server's small answers do.
/// </summary>
internal sealed partial class LoadGenerator
{
    /// <summary>TCP connect and WebSocket upgrade (deflate offered) of one connection, timed together.</summary>
    private async Task<(Connection? Connection, long Ticks, string? Error)> ConnectCompressedAsync(CancellationToken cancellationToken)
    {
        var webSocket = new ClientWebSocket();
        webSocket.Options.Proxy = null;
        webSocket.Options.KeepAliveInterval = TimeSpan.Zero;
        webSocket.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        webSocket.Options.CollectHttpResponseDetails = true;
        if (_options.AuthToken is not null)
        {
            webSocket.Options.SetRequestHeader("Authorization", BearerToken.HeaderValue(_options.AuthToken));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        long started = Stopwatch.GetTimestamp();
        try
        {
            await webSocket.ConnectAsync(_options.Url, timeout.Token).ConfigureAwait(false);
            long ticks = Stopwatch.GetTimestamp() - started;
            bool compressed = webSocket.HttpResponseHeaders?.TryGetValue("Sec-WebSocket-Extensions", out IEnumerable<string>? extensions) == true
                && extensions.Any(value => value.Contains("permessage-deflate", StringComparison.OrdinalIgnoreCase));
            webSocket.HttpResponseHeaders = null;
            return (new Connection(webSocket, compressed, _requestPrefix, _options.Pipeline), ticks, null);
        }
        catch (Exception exception) when (exception is WebSocketException or HttpRequestException or IOException or SocketException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            HttpStatusCode status = webSocket.HttpStatusCode;
            webSocket.Dispose();
            string reason = status == HttpStatusCode.Unauthorized
                ? BearerToken.UnauthorizedReason(tokenSent: _options.AuthToken is not null)
                : exception is OperationCanceledException
                    ? $"no upgrade within {_options.ConnectTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s"
                    : RpcConnectionException.Describe(exception);
            return (null, 0, $"cannot connect to {_options.Url}: {reason}");
        }
    }

    /// <summary>
    /// One <see cref="ClientWebSocket"/> connection's loop: fill the pipeline, then one new request per
    /// answer until the measurement ends; then wait for the answers still in flight and close.
    /// </summary>
    private async Task RunCompressedConnectionAsync(Connection connection)
    {
        await Task.Yield();
        ClientWebSocket webSocket = connection.WebSocket!;
        CancellationToken abort = _abort.Token;
        int free = _options.Pipeline;
        bool closing = false;
        try
        {
            while (true)
            {
                long now = Stopwatch.GetTimestamp();
                for (; free > 0 && now < _measureEnd; free--)
                {
                    int length = NextRequestLength(connection, now);
                    await webSocket.SendAsync(connection.Request.AsMemory(0, length), WebSocketMessageType.Text, OutgoingCompression.EndOfMessage(length), abort).ConfigureAwait(false);
                }

                if (connection.Outstanding.Count == 0 && now >= _measureEnd)
                {
                    closing = true;
                    await webSocket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, abort).ConfigureAwait(false);
                    break;
                }

                int received = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (received == connection.Receive.Length)
                    {
                        Array.Resize(ref connection.Receive, connection.Receive.Length * 2);
                    }

                    result = await webSocket.ReceiveAsync(connection.Receive.AsMemory(received), abort).ConfigureAwait(false);
                    received += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    connection.Dropped = true;
                    connection.Problem ??= $"the server closed a connection with {connection.Outstanding.Count} requests in flight";
                    break;
                }

                free += HandleAnswer(connection, connection.Receive.AsSpan(0, received), Stopwatch.GetTimestamp()) ? 1 : 0;
            }
        }
        catch (OperationCanceledException)
        {
            // The grace period ran out (or the run was cancelled): what is still in flight is lost, counted below.
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or SocketException)
        {
            MarkBroken(connection, exception, closing);
        }
        finally
        {
            CountLost(connection);
        }
    }
}
