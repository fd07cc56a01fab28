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
                FlushDeferred();
                Volatile.Write(ref _awaitingPermit, 1); // see CancelCallsIfPeerHungUp
                await _permits.WaitAsync().ConfigureAwait(false);
                Volatile.Write(ref _awaitingPermit, 0);
            }

            byte[]? buffer = null;
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
                    FlushDeferred();
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
                buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialReceiveSize, _maxMessageBytes + 1));
                int count = 0;
                bool complete = result.EndOfMessage;
                while (!complete)
                {
                    // The pool may hand out more than the limit allows: never read past limit + 1 bytes.
                    int capacity = Math.Min(buffer.Length, _maxMessageBytes + 1);
                    if (count == capacity)
                    {
                        if (count > _maxMessageBytes)
                        {
                            break; // a byte more than allowed is already here
                        }

                        buffer = Grow(buffer, count);
                        capacity = Math.Min(buffer.Length, _maxMessageBytes + 1);
                    }

                    ValueTask<ValueWebSocketReceiveResult> rest = _socket.ReceiveAsync(buffer.AsMemory(count, capacity - count), CancellationToken.None);
                    if (!rest.IsCompleted)
                    {
                        FlushDeferred();
                    }

                    result = await rest.ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        _permits.Release();
                        return CloseReason.PeerClosed;
                    }

                    count += result.Count;
                    complete = result.EndOfMessage;
                }

                if (_countsPayloadBytes)
                {
                    _metrics.AddReceivedBytes(count);
                }
                if (count > _maxMessageBytes || !complete)
                {
                    _permits.Release();
                    return CloseReason.MessageTooBig;
                }

                Volatile.Write(ref _lastActivity, Environment.TickCount64);
                byte[] message = buffer;
                buffer = null;
                _deferWrites = true;
                Dispatch(message, count, type); // owns the message and the permit from here
            }
            catch
            {
                _permits.Release();
                throw;
            }
            finally
            {
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
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
        if (Volatile.Read(ref _awaitingPermit) == 1 && _stream?.PeerHasHungUp == true)
        {
            CancelCalls();
        }
    }

    private byte[] Grow(byte[] buffer, int count)
    {
        int size = (int)Math.Min((long)buffer.Length * 2, (long)_maxMessageBytes + 1);
        byte[] grown = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, count).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(buffer);
        return grown;
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
            _log.Error($"Dispatch failed for {RemoteEndPoint}: {exception.GetType().Name}");
            answered = false;
        }

        Complete(answered, message, answer, type);
    }

    private void Complete(bool answered, byte[] message, RpcResponseBuffer answer, WebSocketMessageType type)
    {
        ArrayPool<byte>.Shared.Return(message);
        if (answered)
        {
            Enqueue(answer, type);
        }
        else
        {
            RpcResponseBuffer.Return(answer);
        }

        Interlocked.Decrement(ref _callsInFlight);
        _permits.Release();
    }
}
