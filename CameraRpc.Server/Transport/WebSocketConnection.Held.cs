using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Tasks.Sources;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Transport;

internal sealed partial class WebSocketConnection
{
    /// <summary>True while a message waits for a call slot (or is being taken from the holder).</summary>
    private bool IsHolding => Volatile.Read(ref _held) is { IsEmpty: false };

    /// <summary>
    /// A message read at <c>--max-concurrency</c>: its <c>$/cancelRequest</c> notifications take effect at once
    /// (CONTRACT section 6: a cancel is never held behind back-pressure), whether it is one or a batch with
    /// some; a held single request cancelled so is answered -32800 at once. Logs the message as read.
    /// </summary>
    /// <returns>The length of what is left to run: 0 when the message was only cancels.</returns>
    private int ApplyCancelsAtLimit(byte[] buffer, int count)
    {
        _log.Received(RemoteEndPoint, buffer.AsSpan(0, count)); // as the client sent it, cancels included
        int rest = _dispatcher.ApplyCancels(buffer.AsMemory(0, count), Context);
        if (rest < count && Volatile.Read(ref _held) is { } held && held.Calls.IsCancelledRequest && held.TryClaim())
        {
            AnswerCancelled(held);
        }

        return rest;
    }

    /// <summary>
    /// A message (not only cancels) read at the limit. Behind a held message it waits until that one is
    /// taken (the loop reads nothing meanwhile: the bound of two messages); then it takes a free slot
    /// (true: the loop dispatches it) or is held itself while the loop reads on for cancels (false).
    /// </summary>
    private async ValueTask<bool> TakeSlotOrHoldAsync(byte[] buffer, int count, WebSocketMessageType type)
    {
        if (Volatile.Read(ref _held) is { IsEmpty: false } held)
        {
            _writer.FlushDeferred();
            Volatile.Write(ref _awaitingPermit, 1); // see CancelCallsIfPeerHungUp
            await held.SettledAsync().ConfigureAwait(false);
            Volatile.Write(ref _awaitingPermit, 0);
        }

        if (_permits.Wait(0))
        {
            return true;
        }

        Hold(buffer, count, type);
        return false;
    }

    /// <summary>
    /// Holds a message until a call slot frees: its calls are registered by id first, so that a cancel read
    /// meanwhile reaches them. The holder is the connection's one <see cref="HeldMessage"/>, reused.
    /// </summary>
    private void Hold(byte[] buffer, int count, WebSocketMessageType type)
    {
        HeldMessage? held = _held;
        if (held is null)
        {
            held = new HeldMessage(this);
            Volatile.Write(ref _held, held);
        }

        held.Fill(buffer, count, type);
        _dispatcher.RegisterWaiting(held.Memory, Context, held.Calls, _calls.Token);
        held.Publish();
        _writer.FlushDeferred();
        RunHeldIfSlotFree(inline: true);
    }

    /// <summary>
    /// Gives a free slot to the held message, if any. Called by the read loop once it held a message, and
    /// by every call that ends (<see cref="Complete"/>), after it gave its slot back: whichever sees both a
    /// held message and a free slot runs it, so neither side can miss the other.
    /// </summary>
    /// <param name="inline">False off the read loop: the held message then runs on the thread pool, as a call ending on a method's thread must not run the next method there.</param>
    private void RunHeldIfSlotFree(bool inline)
    {
        HeldMessage? held = Volatile.Read(ref _held);
        while (held is not null && held.IsWaiting && _permits.Wait(0))
        {
            if (held.TryClaim())
            {
                if (inline)
                {
                    RunHeld(held);
                }
                else
                {
                    ThreadPool.UnsafeQueueUserWorkItem(held, preferLocal: false);
                }

                return;
            }

            _permits.Release(); // taken meanwhile (a cancel, the end of the connection): look again
        }
    }

    /// <summary>Dispatches the held message on the slot its claimer took; the holder is free again once this returns.</summary>
    private void RunHeld(HeldMessage held)
    {
        // The dispatch takes the waiting calls before it returns (each batch call starts before any awaits).
        Dispatch(held.Buffer!, held.Length, held.Type, logged: true, held.Calls);
        held.Calls.Release();
        held.Settle();
    }

    /// <summary>A held single request was cancelled by <c>$/cancelRequest</c>: answered -32800, never run.</summary>
    private void AnswerCancelled(HeldMessage held)
    {
        RpcResponseBuffer answer = RpcResponseBuffer.Rent();
        if (_dispatcher.WriteCancelled(held.Memory, answer))
        {
            _writer.Enqueue(answer, held.Type);
        }
        else
        {
            RpcResponseBuffer.Return(answer);
        }

        held.Calls.Release();
        ArrayPool<byte>.Shared.Return(held.Buffer!);
        held.Settle();
    }

    /// <summary>The connection ends with a message still held: it never runs.</summary>
    private void DropHeld()
    {
        if (Volatile.Read(ref _held) is { } held && held.TryClaim())
        {
            held.Calls.Release();
            ArrayPool<byte>.Shared.Return(held.Buffer!);
            held.Settle();
        }
    }

    /// <summary>
    /// The connection's one message waiting for a call slot at <c>--max-concurrency</c>, made on the first
    /// hold and reused, so that holding allocates nothing per message: it is its own thread-pool work item
    /// (run when a slot frees) and the value-task source the read loop awaits when a second message must wait.
    /// </summary>
    /// <remarks>
    /// States: empty, waiting (published with its calls registered), claimed (by exactly one of: the slot that
    /// runs it, a cancel that answers it, the end of the connection), then empty again once the claimer is
    /// done with its contents (<see cref="Settle"/>). Only the read loop fills it, and only when it is empty.
    /// </remarks>
    private sealed class HeldMessage(WebSocketConnection connection) : IThreadPoolWorkItem, IValueTaskSource
    {
        private const int Empty = 0, Waiting = 1, Claimed = 2;

        private ManualResetValueTaskSourceCore<bool> _settled = new() { RunContinuationsAsynchronously = true };
        private int _state;

        public byte[]? Buffer { get; private set; }

        public int Length { get; private set; }

        public WebSocketMessageType Type { get; private set; }

        public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, Length);

        /// <summary>Its calls with an id, registered so that a cancel reaches them while it waits.</summary>
        public RpcWaitingCalls Calls { get; } = new();

        public bool IsEmpty => Volatile.Read(ref _state) == Empty;

        public bool IsWaiting => Volatile.Read(ref _state) == Waiting;

        public void Fill(byte[] buffer, int length, WebSocketMessageType type)
        {
            Buffer = buffer;
            Length = length;
            Type = type;
            _settled.Reset();
        }

        /// <summary>From now on a free slot, a cancel or the end of the connection may claim it.</summary>
        public void Publish() => Interlocked.Exchange(ref _state, Waiting);

        public bool TryClaim() => Interlocked.CompareExchange(ref _state, Claimed, Waiting) == Waiting;

        /// <summary>The claimer is done with the message: the holder is empty, and a read loop waiting for that resumes.</summary>
        public void Settle()
        {
            Buffer = null;
            Volatile.Write(ref _state, Empty);
            _settled.SetResult(true);
        }

        /// <summary>Completes once the message now held has been claimed and dealt with (at once if it already was).</summary>
        public ValueTask SettledAsync() => new(this, _settled.Version);

        void IThreadPoolWorkItem.Execute() => connection.RunHeld(this);

        void IValueTaskSource.GetResult(short token) => _settled.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _settled.GetStatus(token);

        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _settled.OnCompleted(continuation, state, token, flags);
    }
}
