using System.Net.WebSockets;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Transport;

internal sealed partial class WebSocketConnection
{
    /// <inheritdoc />
    public ValueTask SendNotificationAsync(RpcResponseBuffer message, CancellationToken cancellationToken)
    {
        Enqueue(message, WebSocketMessageType.Text);
        return ValueTask.CompletedTask;
    }

    /// <summary>Queues an answer or notification for the writer; takes ownership of <paramref name="buffer"/>.</summary>
    private void Enqueue(RpcResponseBuffer buffer, WebSocketMessageType type)
    {
        long queued = Interlocked.Add(ref _queuedBytes, buffer.WrittenCount);
        if (queued > _maxQueuedBytes)
        {
            // The client sends but does not read. Its answers cannot be delivered, and a close frame
            // could not reach it either (it would queue behind them): drop the connection.
            Interlocked.Add(ref _queuedBytes, -buffer.WrittenCount);
            RpcResponseBuffer.Return(buffer);
            _log.Warning($"Client {RemoteEndPoint} is not reading its answers ({queued} bytes queued); connection aborted");
            _socket.Abort();
            return;
        }

        if (!_outbound.Writer.TryWrite(OutboundMessage.Data(buffer, type)))
        {
            // The connection is already closing; the client is gone or has said goodbye.
            Interlocked.Add(ref _queuedBytes, -buffer.WrittenCount);
            RpcResponseBuffer.Return(buffer);
        }
    }

    /// <summary>
    /// The only code that sends on the socket: answers and notifications in queue order, then the close
    /// frame. A failed send ends the loop; what is still queued is returned to the pool.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        var reader = _outbound.Reader;
        bool broken = false;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                // Everything queued now goes out in one socket write (see ConnectionStream).
                _stream?.BeginBatch();
                while (reader.TryRead(out OutboundMessage item))
                {
                    if (broken)
                    {
                        Release(item);
                        continue;
                    }

                    try
                    {
                        if (item.IsClose)
                        {
                            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                            {
                                await _socket.CloseOutputAsync(item.CloseStatus, item.CloseDescription, CancellationToken.None).ConfigureAwait(false);
                            }

                            continue;
                        }

                        RpcResponseBuffer buffer = item.Buffer!;
                        _log.Sending(RemoteEndPoint, buffer.WrittenSpan);
                        await _socket.SendAsync(buffer.WrittenMemory, item.Type, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                        _metrics.AddSentBytes(buffer.WrittenCount);
                        Release(item);
                    }
                    catch (Exception exception) when (exception is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
                    {
                        broken = true;
                        Release(item);
                        _socket.Abort(); // wakes the read loop, which then winds the connection down
                    }
                }

                if (_stream is not null && !broken)
                {
                    try
                    {
                        await _stream.EndBatchAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception exception) when (exception is IOException or ObjectDisposedException or OperationCanceledException)
                    {
                        broken = true;
                        _socket.Abort();
                    }
                }
            }
        }
        finally
        {
            while (reader.TryRead(out OutboundMessage item))
            {
                Release(item);
            }
        }
    }

    private void Release(OutboundMessage item)
    {
        if (item.Buffer is { } buffer)
        {
            Interlocked.Add(ref _queuedBytes, -buffer.WrittenCount);
            RpcResponseBuffer.Return(buffer);
        }
    }
}
