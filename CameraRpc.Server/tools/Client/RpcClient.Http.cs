using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace CameraRpc.Server.Tools.Client;

/// <summary>The HTTP transport of <see cref="RpcClient"/>: one POST per message.</summary>
internal sealed partial class RpcClient
{
    private readonly TimeSpan _connectTimeout;

    /// <summary>
    /// The connection <see cref="ConnectAsync"/> opened, until the first POST takes it (see <see cref="OpenHttpConnectionAsync"/>).
    /// </summary>
    private Stream? _firstHttpConnection;

    /// <summary>True when every POST carries <c>Authorization: Bearer TOKEN</c>; a 401 then means the token was refused.</summary>
    private readonly bool _sendsToken;

    private RpcClient(Uri url, string? authToken, Stream firstConnection, TimeSpan connectTimeout)
    {
        _url = url;
        _connectTimeout = connectTimeout;
        _firstHttpConnection = firstConnection;
        _sendsToken = authToken is not null;
        var handler = new SocketsHttpHandler
        {
            // The tool talks to the server directly; an http_proxy in the environment must not reroute it.
            UseProxy = false,
            ConnectTimeout = connectTimeout,
            ConnectCallback = OpenHttpConnectionAsync,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        if (authToken is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", authToken);
        }
    }

    /// <summary>
    /// Opens the TCP connection now rather than at the first POST, as the WebSocket transport does:
    /// a server that refuses or never accepts is then "cannot connect" (exit 2) with its own timeout,
    /// not a call that failed or timed out waiting for its answer. A missing or wrong token shows only at
    /// the first POST (a 401): HTTP has no handshake to check it earlier.
    /// </summary>
    private static async Task<RpcClient> ConnectHttpAsync(Uri url, string? authToken, TimeSpan connectTimeout, CancellationTokenSource timeout, CancellationToken cancellationToken)
    {
        try
        {
            Stream connection = await OpenTcpAsync(url.DnsSafeHost, url.Port, timeout.Token).ConfigureAwait(false);
            return new RpcClient(url, authToken, connection, connectTimeout);
        }
        catch (Exception exception) when (IsTransportFailure(exception) || IsTimeout(exception, cancellationToken))
        {
            throw CannotConnect(url, connectTimeout, timeout, cancellationToken, exception);
        }
    }

    /// <summary>
    /// SocketsHttpHandler's connect step: the first request gets the connection <see cref="ConnectAsync"/>
    /// opened; only if the server closes it is another one opened here (within the handler's ConnectTimeout).
    /// </summary>
    private async ValueTask<Stream> OpenHttpConnectionAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        Interlocked.Exchange(ref _firstHttpConnection, null)
        ?? await OpenTcpAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);

    /// <summary>DNS (every address is tried, IPv4 and IPv6) and a TCP connect, as SocketsHttpHandler itself does it.</summary>
    private static async ValueTask<Stream> OpenTcpAsync(string host, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<RpcAnswer?> PostAsync(byte[] body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        HttpStatusCode status;
        string? reason;
        byte[] payload;
        try
        {
            using HttpResponseMessage response = await _http!.PostAsync(_url, content, cancellationToken).ConfigureAwait(false);
            status = response.StatusCode;
            reason = response.ReasonPhrase;
            payload = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException exception) when (exception.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError)
        {
            // A new connection was needed (the server closed the first one) and could not be made.
            throw new RpcConnectionException($"cannot connect to {_url}: {RpcConnectionException.Describe(exception)}", exception);
        }
        catch (Exception exception) when (IsTransportFailure(exception))
        {
            // The connection broke after the request went out: reset, closed mid-answer, or an answer that is not HTTP.
            throw new RpcConnectionException($"connection to {_url} failed while waiting for the answer: {RpcConnectionException.Describe(exception)}", exception);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            // SocketsHttpHandler reports its ConnectTimeout as a cancellation (a TaskCanceledException
            // around a TimeoutException), not as an HttpRequestException.
            throw new RpcConnectionException($"cannot connect to {_url}: {NotConnectedWithin(_connectTimeout)}", exception);
        }

        if (status == HttpStatusCode.NoContent)
        {
            return null;
        }

        if (status == HttpStatusCode.Unauthorized)
        {
            throw RpcConnectionException.Unauthorized(_url, _sendsToken);
        }

        if (status != HttpStatusCode.OK)
        {
            throw new RpcConnectionException($"{_url} answered HTTP {(int)status} {reason}");
        }

        if (payload.Length == 0)
        {
            return null;
        }

        return RpcAnswer.TryParse(payload)
            ?? throw new RpcConnectionException($"{_url} answered with a body that is not JSON: {Truncate(Encoding.UTF8.GetString(payload))}");
    }

    private void DisposeHttp()
    {
        // The first connection is the handler's once a POST took it; until then it is ours to close.
        Interlocked.Exchange(ref _firstHttpConnection, null)?.Dispose();
        _http?.Dispose();
    }
}
