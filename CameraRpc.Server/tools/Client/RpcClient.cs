using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CameraRpc.Server.Tools.Watch;
using CameraRpc.Server.Tools.WebSockets;

namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// A minimal JSON-RPC 2.0 client for the operator commands: one WebSocket connection for a
/// <c>ws://</c> or <c>wss://</c> URL, HTTP POSTs over one kept-alive connection for an <c>http://</c> or
/// <c>https://</c> URL (see <c>RpcClient.Http.cs</c>).
/// </summary>
/// <remarks>
/// One call at a time (not thread-safe). Over WebSocket, server notifications and answers to
/// other ids that arrive while a call waits are skipped. Every transport failure surfaces as
/// <see cref="RpcConnectionException"/> with a one-line reason; <see cref="ConnectAsync"/> connects
/// eagerly over both transports, so "cannot connect" is told apart from a call that failed.
/// Over WebSocket it is also an <see cref="IRpcMessageChannel"/>: every message in both directions,
/// notifications included, for <c>watch</c>. It offers permessage-deflate as browsers do.
/// </remarks>
internal sealed partial class RpcClient : IAsyncDisposable, IRpcMessageChannel
{
    private readonly Uri _url;
    private readonly ClientWebSocket? _webSocket;
    private readonly HttpClient? _http;
    private byte[] _receiveBuffer = new byte[16 * 1024];
    private long _nextId;

    private RpcClient(Uri url, ClientWebSocket webSocket)
    {
        _url = url;
        _webSocket = webSocket;
    }

    /// <summary>The server's URL.</summary>
    public Uri Url => _url;

    /// <summary>True when the URL scheme is one this client speaks.</summary>
    public static bool IsSupportedScheme(Uri url) =>
        url.IsAbsoluteUri && url.Scheme is "ws" or "wss" or "http" or "https";

    /// <summary>
    /// Opens the connection: the WebSocket upgrade for a WebSocket URL, the TCP connection the POSTs
    /// will use for an HTTP URL.
    /// </summary>
    /// <param name="url">The server's URL.</param>
    /// <param name="authToken">
    /// The server's <c>--auth-token</c>, sent as <c>Authorization: Bearer TOKEN</c> on the upgrade and on every
    /// POST (see <see cref="BearerToken"/>), or <see langword="null"/> to send none.
    /// </param>
    /// <param name="connectTimeout">How long connecting may take; a server that never accepts fails after it.</param>
    /// <param name="cancellationToken">Cancels the connect (then <see cref="OperationCanceledException"/> is thrown, nothing else).</param>
    /// <exception cref="RpcConnectionException">
    /// The server cannot be reached in time, or refused the upgrade (401: <see cref="RpcConnectionException.IsUnauthorized"/>).
    /// </exception>
    public static async Task<RpcClient> ConnectAsync(Uri url, string? authToken, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        if (!IsSupportedScheme(url))
        {
            throw new ArgumentException($"unsupported URL scheme '{url.Scheme}' (use ws://, wss://, http:// or https://)", nameof(url));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connectTimeout);
        if (url.Scheme is "http" or "https")
        {
            return await ConnectHttpAsync(url, authToken, connectTimeout, timeout, cancellationToken).ConfigureAwait(false);
        }

        var webSocket = new ClientWebSocket();
        webSocket.Options.Proxy = null;
        webSocket.Options.KeepAliveInterval = TimeSpan.Zero;

        // Offer permessage-deflate as browsers do ("permessage-deflate; client_max_window_bits"); a server
        // that does not take it answers without the extension and the connection runs uncompressed.
        webSocket.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();

        // Keeps the status of a refused upgrade, so a 401 can be told apart from other refusals.
        webSocket.Options.CollectHttpResponseDetails = true;
        if (authToken is not null)
        {
            webSocket.Options.SetRequestHeader("Authorization", BearerToken.HeaderValue(authToken));
        }

        try
        {
            await webSocket.ConnectAsync(url, timeout.Token).ConfigureAwait(false);
            webSocket.HttpResponseHeaders = null;
            return new RpcClient(url, webSocket);
        }
        catch (Exception exception) when (IsTransportFailure(exception) || IsTimeout(exception, cancellationToken))
        {
            HttpStatusCode status = webSocket.HttpStatusCode;
            webSocket.Dispose();
            throw status == HttpStatusCode.Unauthorized
                ? RpcConnectionException.Unauthorized(url, tokenSent: authToken is not null, exception)
                : CannotConnect(url, connectTimeout, timeout, cancellationToken, exception);
        }
    }

    /// <summary>Sends a request with a fresh integer id and returns the answer with that id.</summary>
    /// <param name="method">The method name.</param>
    /// <param name="paramsJson">The <c>params</c> JSON (array or object, already validated), or <see langword="null"/> to leave it out.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<RpcAnswer> CallAsync(string method, string? paramsJson, CancellationToken cancellationToken)
    {
        long id = ++_nextId;
        byte[] request = BuildRequest(method, paramsJson, id);
        if (_http is not null)
        {
            return await PostAsync(request, cancellationToken).ConfigureAwait(false)
                ?? throw new RpcConnectionException($"{_url} answered a call with no content");
        }

        await SendAsync(request, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            RpcAnswer answer = await ReceiveAnswerAsync(cancellationToken).ConfigureAwait(false);
            JsonElement root = answer.Root;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id"u8, out JsonElement answerId))
            {
                continue;
            }

            // An id of null is the server saying it could not read our request; that answer is ours too.
            if (answerId.ValueKind == JsonValueKind.Null
                || (answerId.ValueKind == JsonValueKind.Number && answerId.TryGetInt64(out long number) && number == id))
            {
                return answer;
            }
        }
    }

    /// <summary>Sends a notification (no id): nothing comes back.</summary>
    public async Task NotifyAsync(string method, string? paramsJson, CancellationToken cancellationToken)
    {
        byte[] notification = BuildRequest(method, paramsJson, id: null);
        if (_http is not null)
        {
            _ = await PostAsync(notification, cancellationToken).ConfigureAwait(false);
            return;
        }

        await SendAsync(notification, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <paramref name="text"/> as it is (used to send malformed JSON) and returns the next
    /// answer; <see langword="null"/> when an HTTP server answered with no content.
    /// </summary>
    public async Task<RpcAnswer?> SendRawAsync(string text, CancellationToken cancellationToken)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (_http is not null)
        {
            return await PostAsync(bytes, cancellationToken).ConfigureAwait(false);
        }

        await SendAsync(bytes, cancellationToken).ConfigureAwait(false);
        return await ReceiveAnswerAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the WebSocket politely (briefly), then releases everything.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_webSocket is not null)
        {
            if (_webSocket.State == WebSocketState.Open)
            {
                try
                {
                    // A short, bounded close: the operator's command must not hang on a server that never answers the close.
                    using var closeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _webSocket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, closeTimeout.Token).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or IOException)
                {
                    // Closing is best effort; the answer has already been read.
                }
            }

            _webSocket.Dispose();
        }

        DisposeHttp();
    }

    /// <summary>Writes <c>{"jsonrpc":"2.0","method":…,"params":…,"id":…}</c>; <paramref name="id"/> null makes a notification.</summary>
    internal static byte[] BuildRequest(string method, string? paramsJson, long? id)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc"u8, "2.0"u8);
            writer.WriteString("method"u8, method);
            if (paramsJson is not null)
            {
                writer.WritePropertyName("params"u8);
                writer.WriteRawValue(paramsJson, skipInputValidation: false);
            }

            if (id is long value)
            {
                writer.WriteNumber("id"u8, value);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private async Task SendAsync(byte[] message, CancellationToken cancellationToken)
    {
        try
        {
            await _webSocket!.SendAsync(message, WebSocketMessageType.Text, OutgoingCompression.EndOfMessage(message.Length), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsTransportFailure(exception))
        {
            throw new RpcConnectionException($"connection to {_url} failed while sending: {RpcConnectionException.Describe(exception)}", exception);
        }
    }

    private async Task<RpcAnswer> ReceiveAnswerAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            RpcAnswer answer = await ReceiveMessageAsync(cancellationToken).ConfigureAwait(false);

            // A server-initiated notification (it has a method) is not an answer to anything we sent.
            if (answer.Root.ValueKind == JsonValueKind.Object && answer.Root.TryGetProperty("method"u8, out _))
            {
                continue;
            }

            return answer;
        }
    }

    /// <inheritdoc/>
    /// <remarks>WebSocket only: over HTTP nothing arrives but answers to POSTs.</remarks>
    public Task SendMessageAsync(byte[] message, CancellationToken cancellationToken) =>
        _webSocket is not null ? SendAsync(message, cancellationToken) : throw new InvalidOperationException("Over HTTP a message is a POST: use CallAsync.");

    /// <inheritdoc/>
    /// <remarks>WebSocket only: over HTTP nothing arrives but answers to POSTs.</remarks>
    public async Task<RpcAnswer> ReceiveMessageAsync(CancellationToken cancellationToken)
    {
        if (_webSocket is null)
        {
            throw new InvalidOperationException("Over HTTP a message is a POST: use CallAsync.");
        }

        int length = 0;
        ValueWebSocketReceiveResult received;
        try
        {
            do
            {
                if (length == _receiveBuffer.Length)
                {
                    Array.Resize(ref _receiveBuffer, _receiveBuffer.Length * 2);
                }

                received = await _webSocket.ReceiveAsync(_receiveBuffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                length += received.Count;
            }
            while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);
        }
        catch (Exception exception) when (IsTransportFailure(exception))
        {
            throw new RpcConnectionException($"connection to {_url} failed while waiting for the answer: {RpcConnectionException.Describe(exception)}", exception);
        }

        if (received.MessageType == WebSocketMessageType.Close)
        {
            string reason = _webSocket.CloseStatus is WebSocketCloseStatus status
                ? $"{(int)status}{(string.IsNullOrEmpty(_webSocket.CloseStatusDescription) ? "" : " " + _webSocket.CloseStatusDescription)}"
                : "no close code";
            throw new RpcConnectionException($"{_url} closed the connection before answering (close {reason})");
        }

        return RpcAnswer.TryParse(_receiveBuffer.AsSpan(0, length))
            ?? throw new RpcConnectionException($"{_url} sent a message that is not JSON: {Truncate(Encoding.UTF8.GetString(_receiveBuffer, 0, length))}");
    }

    /// <summary>The exceptions a broken, refused or unreachable connection throws (the cancellation of a wait is not one of them).</summary>
    private static bool IsTransportFailure(Exception exception) =>
        exception is WebSocketException or HttpRequestException or IOException or SocketException;

    /// <summary>A cancellation that is not the caller's, so one of this client's timeouts.</summary>
    private static bool IsTimeout(Exception exception, CancellationToken cancellationToken) =>
        exception is OperationCanceledException && !cancellationToken.IsCancellationRequested;

    /// <summary><c>cannot connect to URL: REASON</c>; the reason is the timeout when the timeout ended the connect.</summary>
    private static RpcConnectionException CannotConnect(Uri url, TimeSpan connectTimeout, CancellationTokenSource timeout, CancellationToken cancellationToken, Exception exception)
    {
        string reason = timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested
            ? NotConnectedWithin(connectTimeout)
            : RpcConnectionException.Describe(exception);
        return new RpcConnectionException($"cannot connect to {url}: {reason}", exception);
    }

    private static string NotConnectedWithin(TimeSpan connectTimeout) =>
        $"not connected within {connectTimeout.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s";

    private static string Truncate(string text) => text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 200), "…");
}
