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
    /// must take effect while the connection is at its limit (CONTRACT section 6): a cancel is applied as
    /// soon as it is read; any other message is held until a slot frees (<see cref="HeldMessage"/>) while
    /// the loop reads on, applying cancels (a cancel of the held call answers it -32800 without running
    /// it); a second message that is not a cancel waits until the held one has its slot. Beyond its
    /// running calls a connection so holds at most two messages: the held one and the one read after it.
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

                    _metrics.AddReceivedBytes(_message.Length);
                    if (_message.IsOverLimit || !complete)
                    {
                        return CloseReason.MessageTooBig;
                    }

                    Volatile.Write(ref _lastActivity, Environment.TickCount64);
                    buffer = _message.Detach(out int count);

                    // A message is already waiting for a slot: this one may only be a cancel, or wait its turn.
                    if (Volatile.Read(ref _held) is { } held && await ResolveWhileHeldAsync(held, buffer, count).ConfigureAwait(false))
                    {
                        buffer = null; // applied and given back
                        continue;
                    }

                    if (_permits.Wait(0))
                    {
                        byte[] message = buffer;
                        buffer = null;
                        _writer.DeferWhileReading();
                        Dispatch(message, count, type); // owns the message and the permit from here
                        continue;
                    }

                    // At --max-concurrency.
                    if (_dispatcher.ApplyIfCancel(buffer.AsMemory(0, count), Context, default) != RpcCancelCheck.NotACancel)
                    {
                        _log.Received(RemoteEndPoint, buffer.AsSpan(0, count));
                        continue; // the finally gives the buffer back
                    }

                    Hold(buffer, count, type);
                    buffer = null;
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
    /// A message read while <paramref name="held"/> waits for a slot. True when it was a cancel, applied
    /// (and its buffer given back); false when it is a call, once the held message has its slot.
    /// </summary>
    private async ValueTask<bool> ResolveWhileHeldAsync(HeldMessage held, byte[] buffer, int count)
    {
        switch (_dispatcher.ApplyIfCancel(buffer.AsMemory(0, count), Context, held.Memory))
        {
            case RpcCancelCheck.Applied:
                _log.Received(RemoteEndPoint, buffer.AsSpan(0, count));
                ArrayPool<byte>.Shared.Return(buffer);
                return true;

            case RpcCancelCheck.CancelsHeld:
                _log.Received(RemoteEndPoint, buffer.AsSpan(0, count));
                if (TakeHeld(held))
                {
                    AnswerCancelled(held);
                }
                else
                {
                    // It got its slot meanwhile and is running: cancel it as a running call.
                    _dispatcher.ApplyIfCancel(buffer.AsMemory(0, count), Context, default);
                }

                ArrayPool<byte>.Shared.Return(buffer);
                return true;

            default:
                _writer.FlushDeferred();
                Volatile.Write(ref _awaitingPermit, 1); // see CancelCallsIfPeerHungUp
                await held.Settled.ConfigureAwait(false);
                Volatile.Write(ref _awaitingPermit, 0);
                return false;
        }
    }

    /// <summary>Holds a message until a call slot frees; the read loop reads on meanwhile (see <see cref="ReadLoopAsync"/>).</summary>
    private void Hold(byte[] buffer, int count, WebSocketMessageType type)
    {
        var held = new HeldMessage(buffer, count, type);
        Volatile.Write(ref _held, held);
        _writer.FlushDeferred();
        _ = DispatchWhenSlotFreeAsync(held);
    }

    private async Task DispatchWhenSlotFreeAsync(HeldMessage held)
    {
        try
        {
            await _permits.WaitAsync(held.Abandon.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // cancelled by the client, or the connection ended: whoever took it has dealt with it
        }

        if (TakeHeld(held))
        {
            Dispatch(held.Buffer, held.Length, held.Type); // owns the message and the slot from here
        }
        else
        {
            _permits.Release(); // taken meanwhile: the slot is not needed
        }
    }

    /// <summary>Claims the held message for whoever deals with it (its slot, a cancel, the end of the connection); true for one of them only.</summary>
    private bool TakeHeld(HeldMessage held)
    {
        if (Interlocked.CompareExchange(ref _held, null, held) != held)
        {
            return false;
        }

        held.Settle();
        return true;
    }

    /// <summary>The connection ends with a message still held: it never runs.</summary>
    private void DropHeld()
    {
        if (Volatile.Read(ref _held) is { } held && TakeHeld(held))
        {
            held.Abandon.Cancel();
            ArrayPool<byte>.Shared.Return(held.Buffer);
        }
    }

    /// <summary>A message held for a call slot was cancelled by <c>$/cancelRequest</c>: answered -32800, never run.</summary>
    private void AnswerCancelled(HeldMessage held)
    {
        held.Abandon.Cancel();
        _log.Received(RemoteEndPoint, held.Memory.Span);
        RpcResponseBuffer answer = RpcResponseBuffer.Rent();
        if (_dispatcher.WriteCancelled(held.Memory, answer))
        {
            _writer.Enqueue(answer, held.Type);
        }
        else
        {
            RpcResponseBuffer.Return(answer);
        }

        ArrayPool<byte>.Shared.Return(held.Buffer);
    }

    /// <summary>A message waiting for a call slot at <c>--max-concurrency</c> (made only under back-pressure).</summary>
    private sealed class HeldMessage(byte[] buffer, int length, WebSocketMessageType type)
    {
        private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public byte[] Buffer { get; } = buffer;

        public int Length { get; } = length;

        public WebSocketMessageType Type { get; } = type;

        public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, Length);

        /// <summary>Cancels the wait for a slot.</summary>
        public CancellationTokenSource Abandon { get; } = new();

        /// <summary>Completes once the message was dispatched, answered -32800 or dropped.</summary>
        public Task Settled => _settled.Task;

        public void Settle() => _settled.TrySetResult();
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
    }
}
