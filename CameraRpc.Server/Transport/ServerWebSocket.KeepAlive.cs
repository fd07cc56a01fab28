using System.Buffers.Binary;
using System.Net.WebSockets;

namespace CameraRpc.Server.Transport;

internal sealed partial class ServerWebSocket
{
    /// <summary>
    /// The keep-alive of one connection: a timer that pings the client after an interval without input
    /// and aborts the connection when the pong does not come back in time (see <see cref="ServerWebSocket"/>).
    /// </summary>
    /// <remarks>
    /// Input is noticed through the socket's byte counter, read on each tick, so the receive path pays
    /// nothing for it. Ticks are several per timeout (at least a second apart), as the runtime's
    /// WebSocket does.
    /// </remarks>
    private sealed class KeepAlive : IDisposable
    {
        private readonly ServerWebSocket _owner;
        private readonly Timer _timer;
        private readonly byte[] _pingBytes = new byte[sizeof(long)];
        private readonly long _intervalMs;
        private readonly long _timeoutMs; // 0: no pong awaited, unsolicited pongs only
        private long _nextPing;
        private long _pongDeadline;
        private long _bytesSeen;
        private long _pingPayload;
        private volatile bool _awaitingPong;

        public KeepAlive(ServerWebSocket owner, TimeSpan interval, TimeSpan timeout)
        {
            _owner = owner;
            _intervalMs = ToMilliseconds(interval);
            _timeoutMs = timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan ? ToMilliseconds(timeout) : 0;
            _nextPing = Environment.TickCount64 + _intervalMs;
            _bytesSeen = owner._stream.Socket.BytesRead;
            long tick = _timeoutMs == 0 ? _intervalMs : Math.Max(1000, Math.Min(_intervalMs, _timeoutMs) / 4);
            _timer = new Timer(static state => ((KeepAlive)state!).Tick(), this, tick, tick);
        }

        /// <summary>A pong from the client: the one that answers the last ping clears the deadline.</summary>
        public void OnPong(ReadOnlySpan<byte> payload)
        {
            if (_awaitingPong && payload.Length == sizeof(long) && BinaryPrimitives.ReadInt64BigEndian(payload) == Interlocked.Read(ref _pingPayload))
            {
                _awaitingPong = false;
            }
        }

        public void Dispose() => _timer.Dispose();

        private void Tick()
        {
            if (_owner._state != WebSocketState.Open)
            {
                return; // closing: the close handshake has its own timeout
            }

            long now = Environment.TickCount64;
            long bytes = _owner._stream.Socket.BytesRead;
            if (bytes != _bytesSeen)
            {
                _bytesSeen = bytes;
                _nextPing = now + _intervalMs;
            }

            if (_timeoutMs == 0)
            {
                Send(Opcode.Pong, ReadOnlyMemory<byte>.Empty);
                return;
            }

            if (_awaitingPong)
            {
                // Not while the read loop is not reading (a connection at its call limit): the pong may be
                // waiting unread in the kernel. A client that hung up is found by the server's sweep then.
                if (now > _pongDeadline && _owner._awaitingInput)
                {
                    _owner.Abort();
                }

                return;
            }

            if (now >= _nextPing)
            {
                _pongDeadline = now + _timeoutMs;
                _awaitingPong = true;
                BinaryPrimitives.WriteInt64BigEndian(_pingBytes, Interlocked.Increment(ref _pingPayload));
                Send(Opcode.Ping, _pingBytes); // copied before the send returns
            }
        }

        private void Send(byte opcode, ReadOnlyMemory<byte> payload)
        {
            try
            {
                ValueTask send = _owner.SendFrameAsync(opcode, payload, CancellationToken.None);
                if (!send.IsCompletedSuccessfully)
                {
                    _ = ObserveAsync(send);
                }
            }
            catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The connection is going away; its read loop finds out.
            }
        }

        private static async Task ObserveAsync(ValueTask send)
        {
            try
            {
                await send.ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // As above.
            }
        }

        private static long ToMilliseconds(TimeSpan value) => (long)Math.Min(value.TotalMilliseconds, int.MaxValue);
    }
}
