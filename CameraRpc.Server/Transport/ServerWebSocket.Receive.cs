using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using System.Threading.Tasks.Sources;

namespace CameraRpc.Server.Transport;

internal sealed partial class ServerWebSocket
{
    private const int MaxHeaderLength = 14; // 2 bytes, 8 of extended length, 4 of mask

    private readonly byte[] _header = new byte[MaxHeaderLength];
    private int _headerCount;
    private bool _inFrame;          // a data frame's header has been read, its payload not all of it
    private bool _frameFin;
    private long _payloadRemaining;
    private int _mask;              // the frame's masking key, as read (little-endian int of its 4 bytes)
    private int _maskIndex;
    private bool _inMessage;        // a message's first frame has been read, its final frame not yet
    private bool _messageText;
    private Utf8Stream _utf8;
    private volatile bool _awaitingInput; // the receive waits for the socket (see KeepAlive)
    private ManualResetValueTaskSourceCore<ValueWebSocketReceiveResult> _receiveSource = new() { RunContinuationsAsynchronously = false };
    private ValueTask<int> _pendingWait;
    private Memory<byte> _pendingBuffer;
    private CancellationToken _pendingToken;
    private Action? _onWaitCompleted;
    private ValueTask<ValueWebSocketReceiveResult> _pendingRest; // the slow path's receive, when the waited-for frame needs one
    private Action? _onRestCompleted;

    public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        switch (TryReceiveBuffered(buffer.Span, out ValueWebSocketReceiveResult result))
        {
            case BufferedReceive.Done:
                return new ValueTask<ValueWebSocketReceiveResult>(result);
            case BufferedReceive.NotUtf8:
                return FailNotUtf8Async();
        }

        if (!_inFrame && _headerCount == 0 && _reader.BufferedCount == 0 && !_receivedClose && _state is WebSocketState.Open or WebSocketState.CloseSent)
        {
            // Between frames with nothing buffered: the wait for the next message, the one step of
            // nearly every message that cannot complete at once (see WaitForFrame).
            ValueTask<int> wait = _reader.ReadAsync(Memory<byte>.Empty, cancellationToken);
            if (!wait.IsCompleted)
            {
                return WaitForFrame(wait, buffer, cancellationToken);
            }

            try
            {
                wait.GetAwaiter().GetResult();
            }
            catch (Exception exception)
            {
                return ValueTask.FromException<ValueWebSocketReceiveResult>(Failed(exception));
            }
        }

        return ReceiveCoreAsync(buffer, cancellationToken);
    }

    /// <summary>
    /// Completes the receive through this object's reusable value-task source once the read buffer's
    /// wait completes; the frame that arrived is then taken synchronously when it can be. An async
    /// method suspended here instead would need a state-machine box of its own per message for each of
    /// a thousand connections waiting at once (the pool keeps a few), which is garbage per message.
    /// </summary>
    private ValueTask<ValueWebSocketReceiveResult> WaitForFrame(ValueTask<int> wait, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        _awaitingInput = true;
        _pendingWait = wait;
        _pendingBuffer = buffer;
        _pendingToken = cancellationToken;
        _receiveSource.Reset();
        wait.GetAwaiter().UnsafeOnCompleted(_onWaitCompleted ??= OnWaitCompleted);
        return new ValueTask<ValueWebSocketReceiveResult>(this, _receiveSource.Version);
    }

    private void OnWaitCompleted()
    {
        _awaitingInput = false;
        Memory<byte> buffer = _pendingBuffer;
        _pendingBuffer = default;
        try
        {
            _pendingWait.GetAwaiter().GetResult();
        }
        catch (Exception exception)
        {
            _pendingWait = default;
            _receiveSource.SetException(Failed(exception));
            return;
        }

        _pendingWait = default;
        BufferedReceive received;
        ValueWebSocketReceiveResult result;
        try
        {
            received = TryReceiveBuffered(buffer.Span, out result);
        }
        catch (Exception exception)
        {
            // This runs inside the read buffer's completion of its wait (its SetResult, on a thread-pool
            // or socket thread), where nothing handles an exception: a bug met by one connection would
            // end the whole process. It fails this receive, and so only this connection.
            _receiveSource.SetException(Failed(exception));
            return;
        }

        ValueTask<ValueWebSocketReceiveResult> rest;
        switch (received)
        {
            case BufferedReceive.Done:
                _receiveSource.SetResult(result);
                return;
            case BufferedReceive.NotUtf8:
                rest = FailNotUtf8Async();
                break;
            default:
                rest = ReceiveCoreAsync(buffer, _pendingToken); // a control frame, a frame cut short: rare
                break;
        }

        _pendingRest = rest;
        if (rest.IsCompleted)
        {
            OnRestCompleted();
        }
        else
        {
            rest.GetAwaiter().UnsafeOnCompleted(_onRestCompleted ??= OnRestCompleted);
        }
    }

    private void OnRestCompleted()
    {
        ValueTask<ValueWebSocketReceiveResult> rest = _pendingRest;
        _pendingRest = default;
        try
        {
            _receiveSource.SetResult(rest.GetAwaiter().GetResult());
        }
        catch (Exception exception)
        {
            _receiveSource.SetException(exception);
        }
    }

    ValueWebSocketReceiveResult IValueTaskSource<ValueWebSocketReceiveResult>.GetResult(short token) => _receiveSource.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ValueWebSocketReceiveResult>.GetStatus(short token) => _receiveSource.GetStatus(token);

    void IValueTaskSource<ValueWebSocketReceiveResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _receiveSource.OnCompleted(continuation, state, token, flags);

    /// <summary>
    /// The common case without the async machinery: a plain data frame (or the rest of one) whose
    /// header and wanted payload are all buffered. Anything else (control frames, a header cut by a
    /// read, anything invalid) is left untouched for <see cref="ReceiveCoreAsync"/>.
    /// </summary>
    private BufferedReceive TryReceiveBuffered(Span<byte> buffer, out ValueWebSocketReceiveResult result)
    {
        result = default;
        ReadOnlySpan<byte> input = _reader.Buffered;
        if (!_inFrame)
        {
            if (_headerCount != 0 || input.Length < 6 || _receivedClose || _state is WebSocketState.Aborted or WebSocketState.Closed)
            {
                return BufferedReceive.Slow;
            }

            byte first = input[0];
            byte second = input[1];
            int opcode = first & 0x8F; // FIN and opcode; reserved bits make it match nothing below
            bool valid = _inMessage
                ? opcode is Opcode.Continuation or (0x80 | Opcode.Continuation)
                : opcode is Opcode.Text or Opcode.Binary or (0x80 | Opcode.Text) or (0x80 | Opcode.Binary);
            if (!valid || (first & 0x70) != 0 || (second & 0x80) == 0)
            {
                return BufferedReceive.Slow;
            }

            int lengthCode = second & 0x7F;
            int headerLength;
            long length;
            if (lengthCode < 126)
            {
                headerLength = 6;
                length = lengthCode;
            }
            else if (lengthCode == 126 && input.Length >= 8)
            {
                headerLength = 8;
                length = BinaryPrimitives.ReadUInt16BigEndian(input[2..]);
            }
            else
            {
                return BufferedReceive.Slow; // 64-bit lengths, or a header cut short
            }

            if (input.Length - headerLength < Math.Min(buffer.Length, length))
            {
                return BufferedReceive.Slow; // the payload wanted is not all here: the read may wait
            }

            _mask = BinaryPrimitives.ReadInt32LittleEndian(input[(headerLength - 4)..]);
            _maskIndex = 0;
            _frameFin = (first & 0x80) != 0;
            if ((opcode & 0x0F) != Opcode.Continuation)
            {
                _inMessage = true;
                _messageText = (opcode & 0x0F) == Opcode.Text;
                _utf8.Reset();
            }

            _payloadRemaining = length;
            _inFrame = true;
            _reader.Consume(headerLength);
            input = _reader.Buffered;
        }

        int wanted = (int)Math.Min(buffer.Length, _payloadRemaining);
        if (input.Length < wanted)
        {
            return BufferedReceive.Slow;
        }

        Span<byte> filled = buffer[..wanted];
        input[..wanted].CopyTo(filled);
        _reader.Consume(wanted);
        _maskIndex = ApplyMask(filled, _mask, _maskIndex);
        _payloadRemaining -= wanted;
        bool endOfMessage = false;
        if (_payloadRemaining == 0)
        {
            _inFrame = false;
            endOfMessage = _frameFin;
        }

        if (_messageText && !_utf8.Accept(filled, endOfMessage))
        {
            return BufferedReceive.NotUtf8;
        }

        if (endOfMessage)
        {
            _inMessage = false;
        }

        result = new ValueWebSocketReceiveResult(wanted, _messageText ? WebSocketMessageType.Text : WebSocketMessageType.Binary, endOfMessage);
        return BufferedReceive.Done;
    }

    private async ValueTask<ValueWebSocketReceiveResult> FailNotUtf8Async()
    {
        WebSocketException failure = await FailAsync(WebSocketCloseStatus.InvalidPayloadData, "a text message that is not UTF-8").ConfigureAwait(false);
        Abort();
        throw failure;
    }

    private enum BufferedReceive : byte
    {
        Done,
        Slow,
        NotUtf8,
    }

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        ValueWebSocketReceiveResult result = await ReceiveCoreAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
        return new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage, _closeStatus, _closeStatusDescription);
    }

    /// <summary>
    /// The next piece of a data message (the client's pings and pongs are dealt with on the way), or its
    /// close. With data buffered, completes synchronously and allocates nothing.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ValueWebSocketReceiveResult> ReceiveCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            while (!_inFrame)
            {
                if (_receivedClose || _state is WebSocketState.Aborted or WebSocketState.Closed)
                {
                    ThrowClosed(_state);
                }

                if (_headerCount == 0 && _reader.BufferedCount == 0)
                {
                    // Between frames with nothing buffered: wait the way the read buffer waits between
                    // messages (no buffer held for a connection that has never sent anything).
                    _awaitingInput = true;
                    await _reader.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                    _awaitingInput = false;
                }

                int needed = 2;
                while (_headerCount < needed)
                {
                    _headerCount += await ReadSomeAsync(_header.AsMemory(_headerCount, needed - _headerCount), cancellationToken).ConfigureAwait(false);
                    if (_headerCount >= 2)
                    {
                        // The whole header, mask included, before it is judged (masked or not).
                        int lengthCode = _header[1] & 0x7F;
                        needed = 2 + (lengthCode == 126 ? 2 : lengthCode == 127 ? 8 : 0) + 4;
                    }
                }

                _headerCount = 0;
                if (ParseHeader(out byte opcode, out long length) is { } violation)
                {
                    throw await FailAsync(WebSocketCloseStatus.ProtocolError, violation).ConfigureAwait(false);
                }

                if (opcode >= Opcode.Close)
                {
                    if (await ReceiveControlAsync(opcode, (int)length, cancellationToken).ConfigureAwait(false))
                    {
                        return new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, endOfMessage: true);
                    }

                    continue;
                }

                if (opcode != Opcode.Continuation)
                {
                    _inMessage = true;
                    _messageText = opcode == Opcode.Text;
                    _utf8.Reset();
                }

                _payloadRemaining = length;
                _inFrame = true;
            }

            // Like a stream's ReadAtLeast: the buffer, or what is left of the frame, is filled before returning.
            int wanted = (int)Math.Min(buffer.Length, _payloadRemaining);
            int filled = 0;
            while (filled < wanted)
            {
                Memory<byte> space = buffer.Slice(filled, wanted - filled);
                int read = await ReadSomeAsync(space, cancellationToken).ConfigureAwait(false);
                _maskIndex = ApplyMask(space.Span[..read], _mask, _maskIndex);
                filled += read;
            }

            _payloadRemaining -= filled;
            bool endOfMessage = false;
            if (_payloadRemaining == 0)
            {
                _inFrame = false;
                endOfMessage = _frameFin;
            }

            if (_messageText && !_utf8.Accept(buffer.Span[..filled], endOfMessage))
            {
                throw await FailAsync(WebSocketCloseStatus.InvalidPayloadData, "a text message that is not UTF-8").ConfigureAwait(false);
            }

            if (endOfMessage)
            {
                _inMessage = false;
            }

            return new ValueWebSocketReceiveResult(filled, _messageText ? WebSocketMessageType.Text : WebSocketMessageType.Binary, endOfMessage);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw Failed(exception);
        }
    }

    /// <summary>
    /// As the runtime's WebSocket: a failed receive ends the connection (a close frame already written
    /// for a protocol error is flushed on the way out); the exception the read loop gets for it.
    /// </summary>
    private Exception Failed(Exception exception)
    {
        bool aborted = _state == WebSocketState.Aborted;
        Abort();
        return aborted ? new OperationCanceledException("The WebSocket was aborted.", exception)
            : exception as WebSocketException ?? new WebSocketException(WebSocketError.ConnectionClosedPrematurely, exception);
    }

    /// <summary>At least one byte from the connection into <paramref name="destination"/>; the end of the input is an error here.</summary>
    private ValueTask<int> ReadSomeAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        // Buffered bytes are copied synchronously; only a read that must wait for the socket is async.
        return _reader.BufferedCount > 0 ? _reader.ReadAsync(destination, cancellationToken) : ReadFromSocketAsync(destination, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadFromSocketAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        _awaitingInput = true;
        int read = await _reader.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
        _awaitingInput = false;
        if (read == 0)
        {
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The client ended the connection inside a frame or without a close frame.");
        }

        return read;
    }

    /// <summary>Checks a complete header (RFC 6455 section 5.2) and takes its length and mask; null when valid, else what is wrong.</summary>
    private string? ParseHeader(out byte opcode, out long length)
    {
        byte first = _header[0];
        byte second = _header[1];
        opcode = (byte)(first & 0x0F);
        int lengthCode = second & 0x7F;
        int maskAt = 2;
        length = lengthCode;
        if (lengthCode == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(2));
            maskAt = 4;
        }
        else if (lengthCode == 127)
        {
            length = BinaryPrimitives.ReadInt64BigEndian(_header.AsSpan(2));
            maskAt = 10;
        }

        if ((first & 0x70) != 0)
        {
            return "reserved bits set without an extension that defines them";
        }

        if ((second & 0x80) == 0)
        {
            return "a client frame that is not masked";
        }

        bool fin = (first & 0x80) != 0;
        switch (opcode)
        {
            case Opcode.Continuation when !_inMessage:
                return "a continuation frame with no message to continue";
            case Opcode.Text or Opcode.Binary when _inMessage:
                return "a new message inside a fragmented one";
            case Opcode.Close or Opcode.Ping or Opcode.Pong when length > MaxControlPayload || !fin:
                return "a control frame that is fragmented or longer than 125 bytes";
            case Opcode.Continuation or Opcode.Text or Opcode.Binary or Opcode.Close or Opcode.Ping or Opcode.Pong:
                break;
            default:
                return $"reserved opcode 0x{opcode:X}";
        }

        if (length < 0)
        {
            return "a 64-bit payload length with its top bit set";
        }

        _mask = BinaryPrimitives.ReadInt32LittleEndian(_header.AsSpan(maskAt));
        _maskIndex = 0;
        if (opcode < Opcode.Close)
        {
            _frameFin = fin; // control frames between fragments leave the data frame's state alone
        }

        return null;
    }

    /// <summary>A ping, pong or close frame; true for a close (valid: an invalid one fails the connection).</summary>
    private async ValueTask<bool> ReceiveControlAsync(byte opcode, int length, CancellationToken cancellationToken)
    {
        byte[] payload = ArrayPool<byte>.Shared.Rent(MaxControlPayload);
        try
        {
            int got = 0;
            while (got < length)
            {
                got += await ReadSomeAsync(payload.AsMemory(got, length - got), cancellationToken).ConfigureAwait(false);
            }

            ApplyMask(payload.AsSpan(0, length), _mask, 0);
            switch (opcode)
            {
                case Opcode.Ping:
                    if (!_sentClose)
                    {
                        await SendFrameAsync(Opcode.Pong, payload.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    }

                    return false;

                case Opcode.Pong:
                    _keepAlive?.OnPong(payload.AsSpan(0, length));
                    return false;

                default:
                    if (CloseFrameViolation(payload.AsSpan(0, length)) is { } violation)
                    {
                        throw await FailAsync(WebSocketCloseStatus.ProtocolError, violation).ConfigureAwait(false);
                    }

                    return true;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    /// <summary>Takes the client's close: its code (1000 when it gave none) and reason; null when valid, else what is wrong.</summary>
    private string? CloseFrameViolation(ReadOnlySpan<byte> payload)
    {
        lock (_stateLock)
        {
            _receivedClose = true;
            if (_sentClose && _state is WebSocketState.CloseSent)
            {
                _state = WebSocketState.Closed;
            }
            else if (_state is WebSocketState.Open)
            {
                _state = WebSocketState.CloseReceived;
            }
        }

        if (payload.Length == 1)
        {
            return "a close frame with a 1-byte payload";
        }

        var status = WebSocketCloseStatus.NormalClosure;
        string description = string.Empty;
        if (payload.Length >= 2)
        {
            int code = BinaryPrimitives.ReadUInt16BigEndian(payload);
            if (!IsValidCloseCode(code))
            {
                return $"close code {code} is not one a peer may send";
            }

            if (!Utf8.IsValid(payload[2..]))
            {
                return "a close reason that is not UTF-8";
            }

            status = (WebSocketCloseStatus)code;
            description = Encoding.UTF8.GetString(payload[2..]);
        }

        _closeStatus = status;
        _closeStatusDescription = description;
        return null;
    }

    /// <summary>The codes a peer may put in a close frame (RFC 6455 section 7.4, and the IANA registry up to 1014).</summary>
    internal static bool IsValidCloseCode(int code) =>
        code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);

    /// <summary>Fails the connection: the close frame with <paramref name="status"/>, then the exception for the read loop.</summary>
    private async ValueTask<WebSocketException> FailAsync(WebSocketCloseStatus status, string violation)
    {
        try
        {
            await CloseOutputAsync(status, string.Empty, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or WebSocketException)
        {
            // The client is gone already; the connection fails all the same.
        }

        return new WebSocketException(WebSocketError.Faulted, $"WebSocket protocol violation by the client: {violation}.");
    }

    /// <summary>XORs <paramref name="data"/> with the masking key from key byte <paramref name="index"/> on; the next key byte's index.</summary>
    internal static int ApplyMask(Span<byte> data, int mask, int index)
    {
        if (data.IsEmpty)
        {
            return index;
        }

        // The key as it lines up with data[0] (the bytes of an int are in memory order on little-endian).
        uint rolled = BitConverter.IsLittleEndian
            ? BitOperations.RotateRight((uint)mask, index * 8)
            : BitOperations.RotateLeft((uint)mask, index * 8);
        ref byte start = ref MemoryMarshal.GetReference(data);
        int i = 0;
        if (Vector.IsHardwareAccelerated && data.Length >= Vector<byte>.Count)
        {
            Vector<byte> key = Vector.AsVectorByte(new Vector<uint>(rolled));
            for (; i <= data.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                (Vector.LoadUnsafe(ref start, (nuint)i) ^ key).StoreUnsafe(ref start, (nuint)i);
            }
        }

        for (; i <= data.Length - sizeof(uint); i += sizeof(uint))
        {
            ref byte at = ref Unsafe.Add(ref start, i);
            Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<uint>(ref at) ^ rolled);
        }

        Span<byte> key4 = stackalloc byte[sizeof(uint)];
        MemoryMarshal.Write(key4, in rolled);
        for (int k = 0; i < data.Length; i++, k++)
        {
            data[i] ^= key4[k];
        }

        return (index + data.Length) & 3;
    }
}
