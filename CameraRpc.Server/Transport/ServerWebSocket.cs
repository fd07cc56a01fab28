using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Tasks.Sources;

namespace CameraRpc.Server.Transport;

/// <summary>
/// The server's side of RFC 6455 for a taken-over connection without permessage-deflate: frames are
/// parsed straight from the connection's <see cref="ConnectionReadBuffer"/> and written straight into
/// its <see cref="OutboundBatch"/>, with no stream adapter and no async layer of its own on the way of a
/// message that is already buffered.
/// </summary>
/// <remarks>
/// <para>It does what the runtime's WebSocket did for these connections, and answers bad input the same
/// way: client frames must be masked; reserved bits, reserved opcodes, a continuation with nothing to
/// continue, a new message inside a fragmented one, a fragmented or over-long control frame, a 64-bit
/// length with its top bit set and a malformed close frame fail the connection with 1002; text that is
/// not UTF-8 fails it with 1007. Pings are answered with pongs (also between the fragments of a
/// message), the client's close is reported to the read loop, whose answer echoes its code. A receive
/// with a buffer returns once that buffer or the frame is full, like a stream's
/// <c>ReadAtLeast</c>.</para>
/// <para>Keep-alive (<c>--keepalive-interval</c>, <c>--keepalive-timeout</c>): after an interval
/// without input, a ping; a pong carrying its payload must come back within the timeout, or the
/// connection is aborted. Without a timeout, an unsolicited pong every interval keeps proxies from
/// timing the connection out. The timeout is not applied while the read loop is not reading (a
/// connection at <c>--max-concurrency</c>): the pong may be waiting unread in the kernel.</para>
/// <para>Concurrency, as for any WebSocket: one receive at a time (the connection's read loop) and one
/// send at a time (its writer); control frames from the receive path and the keep-alive timer are
/// serialised with the writer's by <see cref="OutboundBatch"/>.</para>
/// </remarks>
internal sealed partial class ServerWebSocket : WebSocket, IValueTaskSource<ValueWebSocketReceiveResult>
{
    private const int MaxControlPayload = 125;

    private readonly ConnectionStream _stream;
    private readonly ConnectionReadBuffer _reader;
    private readonly OutboundBatch _batch;
    private readonly Lock _stateLock = new();
    private readonly KeepAlive? _keepAlive;

    private WebSocketState _state = WebSocketState.Open;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeStatusDescription;
    private bool _sentClose;
    private bool _receivedClose;
    private bool _disposed;

    public ServerWebSocket(ConnectionStream stream, TimeSpan keepAliveInterval, TimeSpan keepAliveTimeout)
    {
        _stream = stream;
        _reader = stream.ReadBuffer;
        _batch = stream.Batch;
        if (keepAliveInterval > TimeSpan.Zero && keepAliveInterval != Timeout.InfiniteTimeSpan)
        {
            _keepAlive = new KeepAlive(this, keepAliveInterval, keepAliveTimeout);
        }
    }

    public override WebSocketCloseStatus? CloseStatus => _closeStatus;

    public override string? CloseStatusDescription => _closeStatusDescription;

    public override WebSocketState State => _state;

    public override string? SubProtocol => null;

    /// <summary>
    /// Sends one message as one frame (this server never fragments what it sends). Inside the writer's
    /// batch this copies the frame into it and completes at once.
    /// </summary>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken)
    {
        if (_state is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return ValueTask.FromException(new WebSocketException(WebSocketError.InvalidState, $"The WebSocket is {_state}: nothing more can be sent."));
        }

        byte opcode = messageType switch
        {
            WebSocketMessageType.Text => Opcode.Text,
            WebSocketMessageType.Binary => Opcode.Binary,
            _ => throw new ArgumentOutOfRangeException(nameof(messageType), messageType, "Only text and binary messages are sent with SendAsync."),
        };

        return SendFrameAsync(opcode, buffer, cancellationToken);
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        endOfMessage
            ? SendAsync(buffer.AsMemory(), messageType, WebSocketMessageFlags.EndOfMessage, cancellationToken).AsTask()
            : throw new NotSupportedException("This server sends every message as one frame.");

    /// <summary>Sends the close frame; the connection stays open for the client's answer (the read loop reads it).</summary>
    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        lock (_stateLock)
        {
            if (_sentClose || _state is WebSocketState.Aborted or WebSocketState.Closed)
            {
                return Task.CompletedTask;
            }

            _sentClose = true;
            _state = _receivedClose ? WebSocketState.Closed : WebSocketState.CloseSent;
        }

        byte[] payload = ClosePayload(closeStatus, statusDescription);
        return SendFrameAsync(Opcode.Close, payload, cancellationToken).AsTask();
    }

    public override async Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        await CloseOutputAsync(closeStatus, statusDescription, cancellationToken).ConfigureAwait(false);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (!_receivedClose && _state == WebSocketState.CloseSent)
            {
                await ReceiveAsync(scratch.AsMemory(), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Drops the TCP connection at once; a receive in progress fails.</summary>
    public override void Abort()
    {
        lock (_stateLock)
        {
            if (_state is not (WebSocketState.Closed or WebSocketState.Aborted))
            {
                _state = WebSocketState.Aborted;
            }
        }

        Release();
    }

    public override void Dispose()
    {
        lock (_stateLock)
        {
            if (_state is not (WebSocketState.Closed or WebSocketState.Aborted))
            {
                _state = WebSocketState.Closed;
            }
        }

        Release();
    }

    private void Release()
    {
        lock (_stateLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _keepAlive?.Dispose();
        _stream.Dispose();
    }

    /// <summary>Writes one final frame: the 2 to 10 bytes of its header, then its payload.</summary>
    private ValueTask SendFrameAsync(byte opcode, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        Span<byte> header = stackalloc byte[10];
        int length = payload.Length;
        header[0] = (byte)(0x80 | opcode); // FIN
        int headerLength;
        if (length < 126)
        {
            header[1] = (byte)length;
            headerLength = 2;
        }
        else if (length <= ushort.MaxValue)
        {
            header[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)length);
            headerLength = 4;
        }
        else
        {
            header[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(header[2..], (ulong)length);
            headerLength = 10;
        }

        return _batch.WriteFrameAsync(header[..headerLength], payload, cancellationToken);
    }

    /// <summary>A close frame's payload: the code, then the reason in UTF-8, cut to fit a control frame.</summary>
    internal static byte[] ClosePayload(WebSocketCloseStatus status, string? description)
    {
        int reasonBytes = string.IsNullOrEmpty(description) ? 0 : Encoding.UTF8.GetByteCount(description);
        byte[] payload = new byte[2 + Math.Min(reasonBytes, MaxControlPayload - 2)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)status);
        if (reasonBytes > 0)
        {
            if (reasonBytes <= MaxControlPayload - 2)
            {
                Encoding.UTF8.GetBytes(description, payload.AsSpan(2));
            }
            else
            {
                // Too long for a control frame: whole characters only, so that the reason stays UTF-8.
                Encoding.UTF8.GetEncoder().Convert(description, payload.AsSpan(2), flush: true, out _, out int written, out _);
                Array.Resize(ref payload, 2 + written);
            }
        }

        return payload;
    }

    [DoesNotReturn]
    private static void ThrowClosed(WebSocketState state) =>
        throw new WebSocketException(WebSocketError.InvalidState, $"The WebSocket is {state}: nothing more can be received.");

    /// <summary>RFC 6455 section 5.2 opcodes.</summary>
    private static class Opcode
    {
        public const byte Continuation = 0x0;
        public const byte Text = 0x1;
        public const byte Binary = 0x2;
        public const byte Close = 0x8;
        public const byte Ping = 0x9;
        public const byte Pong = 0xA;
    }
}
