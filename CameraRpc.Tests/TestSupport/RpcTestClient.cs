using System.Net.WebSockets;
using System.Text;

namespace CameraRpc.Tests.TestSupport;

/// <summary>
/// A WebSocket test client over <see cref="ClientWebSocket"/>: send text or binary messages, receive whole
/// messages with their frame type, and observe the close status the server sent.
/// </summary>
public sealed class RpcTestClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;

    private RpcTestClient(ClientWebSocket socket) => _socket = socket;

    public WebSocket Socket => _socket;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static async Task<RpcTestClient> ConnectAsync(Uri uri, CancellationToken cancellationToken, Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        configure?.Invoke(socket.Options);
        await socket.ConnectAsync(uri, cancellationToken);
        return new RpcTestClient(socket);
    }

    public Task SendAsync(string message, CancellationToken cancellationToken, WebSocketMessageType type = WebSocketMessageType.Text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(message), type, true, cancellationToken);

    /// <summary>The next whole message; null when the server closed the connection instead (see <see cref="CloseStatus"/>).</summary>
    public async Task<(string Text, WebSocketMessageType Type)?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        byte[] chunk = new byte[16 * 1024];
        while (true)
        {
            WebSocketReceiveResult result = await _socket.ReceiveAsync(chunk, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            buffer.Write(chunk, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (Encoding.UTF8.GetString(buffer.ToArray()), result.MessageType);
            }
        }
    }

    /// <summary>Sends one message and returns the next message received (the answer, when calls are sequential).</summary>
    public async Task<string> CallAsync(string message, CancellationToken cancellationToken)
    {
        await SendAsync(message, cancellationToken);
        (string Text, WebSocketMessageType Type)? answer = await ReceiveAsync(cancellationToken);
        return answer?.Text ?? throw new InvalidOperationException($"The server closed the connection ({CloseStatus}) instead of answering {message}");
    }

    /// <summary>Reads until the server's close frame arrives; returns its status (null if the connection dropped without one).</summary>
    public async Task<WebSocketCloseStatus?> WaitForCloseAsync(CancellationToken cancellationToken)
    {
        byte[] chunk = new byte[16 * 1024];
        try
        {
            while (true)
            {
                WebSocketReceiveResult result = await _socket.ReceiveAsync(chunk, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return result.CloseStatus;
                }
            }
        }
        catch (WebSocketException)
        {
            return null; // dropped without a close frame (the client sees 1006)
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
        }

        _socket.Dispose();
    }
}
