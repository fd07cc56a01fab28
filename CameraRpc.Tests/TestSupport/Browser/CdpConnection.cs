using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace CameraRpc.Tests.TestSupport.Browser;

/// <summary>
/// The Chrome DevTools Protocol over one WebSocket: commands answered by id, events handed to a
/// listener. Flat sessions (<c>Target.attachToTarget</c> with <c>flatten</c>): a page's commands and
/// events carry its <c>sessionId</c> on this one connection.
/// </summary>
/// <remarks>Thread-safe: sends are serialized; one receive loop completes commands and raises events.</remarks>
public sealed class CdpConnection : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private int _nextId;
    private Task? _receiveLoop;

    /// <summary>Raised on the receive loop for every event: session id (null for the browser), method, params.</summary>
    public event Action<string?, string, JsonObject>? EventReceived;

    public static async Task<CdpConnection> ConnectAsync(Uri browserEndpoint, CancellationToken cancellationToken)
    {
        var connection = new CdpConnection();
        // Screenshots arrive as one base64 message of a few hundred kilobytes.
        connection._socket.Options.SetBuffer(64 * 1024, 64 * 1024);
        await connection._socket.ConnectAsync(browserEndpoint, cancellationToken);
        connection._receiveLoop = Task.Run(connection.ReceiveLoopAsync);
        return connection;
    }

    /// <summary>Sends a command and returns its <c>result</c>; a protocol error is a <see cref="CdpException"/>.</summary>
    public async Task<JsonObject> SendAsync(string method, JsonObject? parameters, string? sessionId, CancellationToken cancellationToken)
    {
        int id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (sessionId is not null)
        {
            message["sessionId"] = sessionId;
        }

        var answered = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answered;
        byte[] bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }

        try
        {
            JsonObject answer = await answered.Task.WaitAsync(cancellationToken);
            if (answer["error"] is JsonObject error)
            {
                throw new CdpException($"{method}: {error["message"]} {error["data"]}");
            }

            return answer["result"] as JsonObject ?? new JsonObject();
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                message.SetLength(0);
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await _socket.ReceiveAsync(buffer.AsMemory(), _stop.Token);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    message.Write(buffer, 0, received.Count);
                }
                while (!received.EndOfMessage);

                if (JsonNode.Parse(message.GetBuffer().AsSpan(0, (int)message.Length)) is not JsonObject parsed)
                {
                    continue;
                }

                if (parsed["id"] is JsonValue idValue && _pending.TryGetValue(idValue.GetValue<int>(), out TaskCompletionSource<JsonObject>? answered))
                {
                    answered.TrySetResult(parsed);
                }
                else if (parsed["method"]?.GetValue<string>() is { } method)
                {
                    EventReceived?.Invoke(parsed["sessionId"]?.GetValue<string>(), method, parsed["params"] as JsonObject ?? new JsonObject());
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            // The browser went away or we are closing.
        }
        finally
        {
            foreach (TaskCompletionSource<JsonObject> waiting in _pending.Values)
            {
                waiting.TrySetException(new CdpException("The DevTools connection closed"));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Abort();
        if (_receiveLoop is not null)
        {
            await _receiveLoop;
        }

        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }
}

/// <summary>A DevTools command answered with an error.</summary>
public sealed class CdpException(string message) : Exception(message);
