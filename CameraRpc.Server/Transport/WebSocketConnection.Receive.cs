using System.Buffers;
using System.Net.WebSockets;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Transport;

internal sealed partial class WebSocketConnection
{
    /// <summary>
    /// Reads messages until the client closes, a message is too big, or the connection breaks. Each
    /// complete message is dispatched at once when a call slot is free.
    /// </summary>
    /// <remarks>
    /// At <c>--max-concurrency</c> the loop does not stop reading at once, because a <c>$/cancelRequest</c>
    /// must take effect while the connection is at its limit (CONTRACT section 6): the cancels of a message
    /// read then (the message itself, or elements of a batch) are applied as soon as it is read; what is
    /// left is held until a slot frees (<see cref="HeldMessage"/>, with its calls registered by id) while the
    /// loop reads on, applying cancels (a cancelled held request is answered -32800 at once, a cancelled call
    /// of a held batch -32800 in the batch's answer, neither runs); a second message that is not only
    /// cancels waits until the held one has its slot. Beyond its running calls a connection so holds at
    /// most two messages: the held one and the one read after it.
    /// </remarks>
    private async Task<CloseReason> ReadLoopAsync()
    {
        try
        {
            while (true)
            {
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
                        _writer.FlushDeferred();
                        Volatile.Write(ref _awaitingMessage, 1);
                        result = await next.ConfigureAwait(false);
                        Volatile.Write(ref _awaitingMessage, 0);
                    }

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
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
                            return CloseReason.PeerClosed;
                        }

                        _message.Advance(result.Count);
                        complete = result.EndOfMessage;
                    }

                    if (_countsMessageBytes)
                    {
                        _metrics.AddReceivedBytes(_message.Length);
                    }

                    if (_message.IsOverLimit || !complete)
                    {
                        return CloseReason.MessageTooBig;
                    }

                    Volatile.Write(ref _lastActivity, Environment.TickCount64);
                    buffer = _message.Detach(out int count);

                    bool logged = false;
                    if (IsHolding || !_permits.Wait(0))
                    {
                        // At --max-concurrency: its cancels take effect at once; what is left waits for a slot.
                        count = ApplyCancelsAtLimit(buffer, count);
                        logged = true;
                        if (count == 0)
                        {
                            continue; // only cancels, applied; the finally gives the buffer back
                        }

                        if (!await TakeSlotOrHoldAsync(buffer, count, type).ConfigureAwait(false))
                        {
                            buffer = null; // held: runs when a slot frees
                            continue;
                        }
                    }

                    byte[] message = buffer;
                    buffer = null;
                    _writer.DeferWhileReading();
                    Dispatch(message, count, type, logged); // owns the message and the permit from here
                }
                finally
                {
                    _message.Release(); // a message cut short (too big, closed, broken); nothing after Detach
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
        }
        finally
        {
            DropHeld();
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
    /// <param name="logged">True when the message was logged as it was read (at the limit, before its cancels were taken out).</param>
    /// <param name="waiting">The calls registered while the message was held, or null.</param>
    private void Dispatch(byte[] message, int length, WebSocketMessageType type, bool logged, RpcWaitingCalls? waiting = null)
    {
        Interlocked.Increment(ref _callsInFlight);
        if (!logged)
        {
            _log.Received(RemoteEndPoint, message.AsSpan(0, length));
        }

        RpcResponseBuffer answer = RpcResponseBuffer.Rent();
        ValueTask<bool> pending;
        try
        {
            pending = _dispatcher.DispatchAsync(message.AsMemory(0, length), answer, Context, waiting, _calls.Token);
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
        RpcStartingSubscriptions starting = answer.TakeStartingSubscriptions();
        if (answered)
        {
            _writer.Enqueue(answer, type);
        }
        else
        {
            RpcResponseBuffer.Return(answer);
        }

        starting.Start(); // queued behind their subscribe answer (CONTRACT section 6: the answer before event 1)

        Interlocked.Decrement(ref _callsInFlight);
        _permits.Release();
        RunHeldIfSlotFree(inline: false); // a message held at the limit may take the slot just freed
    }
}
