using System.Buffers;
using System.Net.WebSockets;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Transport;

internal sealed partial class WebSocketConnection
{
    /// <summary>
    /// Reads messages until the client closes, a message is too big, or the connection breaks. Each
    /// complete message is dispatched at once; the loop only waits for a free call permit.
    /// </summary>
    private async Task<CloseReason> ReadLoopAsync()
    {
        while (true)
        {
            // Back-pressure: at --max-concurrency calls in flight, stop reading until one finishes.
            // The permit travels with the message into Dispatch; on every other way out it is given back.
            if (!_permits.Wait(0))
            {
                _writer.FlushDeferred();
                Volatile.Write(ref _awaitingPermit, 1); // see CancelCallsIfPeerHungUp
                await _permits.WaitAsync().ConfigureAwait(false);
                Volatile.Write(ref _awaitingPermit, 0);
            }

            try
            {
                // Wait for the next frame without holding a buffer, so that idle connections cost little.
                ValueTask<ValueWebSocketReceiveResult> next = _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                ValueWebSocketReceiveResult result;
                if (next.IsCompleted)
                {
                    result = next.Result;
                }
                else
                {
                    // Nothing buffered anywhere: the connection is between messages (see IsDrained), and
                    // the answers held back while buffered messages were read go out now.
                    _writer.FlushDeferred();
                    Volatile.Write(ref _awaitingMessage, 1);
                    result = await next.ConfigureAwait(false);
                    Volatile.Write(ref _awaitingMessage, 0);
                }

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    _permits.Release();
                    return CloseReason.PeerClosed;
                }

                WebSocketMessageType type = result.MessageType;
                _message.Begin(InitialReceiveSize);
                bool complete = result.EndOfMessage;
                while (!complete && _message.TryGetSpace(out Memory<byte> space))
                {
                    ValueTask<ValueWebSocketReceiveResult> rest = _socket.ReceiveAsync(space, CancellationToken.None);
                    if (!rest.IsCompleted)
                    {
                        _writer.FlushDeferred();
                    }

                    result = await rest.ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        _permits.Release();
                        return CloseReason.PeerClosed;
                    }

                    _message.Advance(result.Count);
                    complete = result.EndOfMessage;
                }

                _metrics.AddReceivedBytes(_message.Length);
                if (_message.IsOverLimit || !complete)
                {
                    _permits.Release();
                    return CloseReason.MessageTooBig;
                }

                Volatile.Write(ref _lastActivity, Environment.TickCount64);
                byte[] message = _message.Detach(out int count);
                _writer.DeferWhileReading();
                Dispatch(message, count, type); // owns the message and the permit from here
            }
            catch
            {
                _permits.Release();
                throw;
            }
            finally
            {
                _message.Release(); // a message cut short (too big, closed, broken); nothing after Detach
            }
        }
    }

    /// <summary>
    /// Cancels the connection's calls when its read loop is waiting for a free call slot and its client
    /// has hung up. Under back-pressure nothing reads the socket, so the hang-up would go unnoticed
    /// until a call finished on its own, and calls that wait for a camera event might never (CONTRACT:
    /// a disconnect cancels them). The server's sweep calls this every <see cref="PeerCheckInterval"/>.
    /// </summary>
    public void CancelCallsIfPeerHungUp()
    {
        if (Volatile.Read(ref _awaitingPermit) == 1 && _stream?.Socket.PeerHasHungUp == true)
        {
            CancelCalls();
        }
    }

    /// <summary>
    /// Starts the calls of one message. A message whose calls complete synchronously (the common
    /// case) is answered here without allocating; only a pending call gets a task of its own.
    /// </summary>
    private void Dispatch(byte[] message, int length, WebSocketMessageType type)
    {
        Interlocked.Increment(ref _callsInFlight);
        _log.Received(RemoteEndPoint, message.AsSpan(0, length));
        RpcResponseBuffer answer = RpcResponseBuffer.Rent();
        ValueTask<bool> pending;
        try
        {
            pending = _dispatcher.DispatchAsync(message.AsMemory(0, length), answer, Context, _calls.Token);
        }
        catch (Exception exception)
        {
            // The engine answers all input itself; a throw is a bug in it, logged below, and must not
            // take the connection's read loop (and with it every later call) down.
            pending = ValueTask.FromException<bool>(exception);
        }

        if (pending.IsCompletedSuccessfully)
        {
            Complete(pending.Result, message, answer, type);
        }
        else
        {
            _ = CompleteLaterAsync(pending, message, answer, type);
        }
    }

    private async Task CompleteLaterAsync(ValueTask<bool> pending, byte[] message, RpcResponseBuffer answer, WebSocketMessageType type)
    {
        bool answered;
        try
        {
            answered = await pending.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // The engine answers every handler failure itself; reaching here is a bug in the engine.
            _log.DispatchFailed(RemoteEndPoint, exception);
            answered = false;
        }

        Complete(answered, message, answer, type);
    }

    private void Complete(bool answered, byte[] message, RpcResponseBuffer answer, WebSocketMessageType type)
    {
        ArrayPool<byte>.Shared.Return(message);
        if (answered)
        {
            _writer.Enqueue(answer, type);
        }
        else
        {
            RpcResponseBuffer.Return(answer);
        }

        Interlocked.Decrement(ref _callsInFlight);
        _permits.Release();
    }
}
