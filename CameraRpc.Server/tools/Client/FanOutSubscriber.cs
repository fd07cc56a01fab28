using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

using CameraRpc.Server.Tools.WebSockets;

namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// One subscriber of a fan-out run (<see cref="FanOutBench"/>) on a self-framed WebSocket: it subscribes to
/// <c>bench.events</c>, then either reads every event (counting deliveries, <c>seq</c> gaps and the
/// publish-to-receive time of each) or, stalled, never reads again.
/// </summary>
/// <remarks>
/// Its figures are written by its own loop only, without locks; the run reads <see cref="Delivered"/> and
/// <see cref="LastSeq"/> while it runs (volatile) and the rest once the loop has ended. The event path
/// allocates nothing: frames and JSON are read in place from one receive buffer.
/// </remarks>
internal sealed class FanOutSubscriber : IDisposable
{
    private static readonly byte[] s_subscribe = Encoding.UTF8.GetBytes(
        $$"""{"jsonrpc":"2.0","method":"rpc.subscribe","params":{"topic":"{{FanOutOptions.Topic}}"},"id":1}""");

    private readonly Socket _socket;
    private readonly bool _stalled;
    private readonly TaskCompletionSource<string?> _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _send = new byte[256];
    private byte[] _receive = new byte[4096];
    private int _receiveStart;
    private int _receiveEnd;
    private MemoryStream? _fragments;
    private byte[]? _pong; // a ping's payload, answered before the next read
    private uint _mask = (uint)Random.Shared.Next(1, int.MaxValue);
    private long _delivered;
    private long _lastSeq;

    /// <param name="socket">The upgraded connection.</param>
    /// <param name="alreadyReceived">Frames that arrived with the upgrade answer.</param>
    /// <param name="stalled">True to stop reading once the subscribe answer is in.</param>
    public FanOutSubscriber(Socket socket, ReadOnlySpan<byte> alreadyReceived, bool stalled)
    {
        _socket = socket;
        _stalled = stalled;
        if (alreadyReceived.Length > _receive.Length)
        {
            _receive = new byte[alreadyReceived.Length * 2];
        }

        alreadyReceived.CopyTo(_receive);
        _receiveEnd = alreadyReceived.Length;
    }

    /// <summary>True for a subscriber that stops reading once subscribed.</summary>
    public bool IsStalled => _stalled;

    /// <summary>Completes with null once subscribed, or with why the subscription failed.</summary>
    public Task<string?> Subscribed => _subscribed.Task;

    /// <summary>Events received so far.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary><c>seq</c> of the last event received (0 before the first).</summary>
    public long LastSeq => Volatile.Read(ref _lastSeq);

    /// <summary>Events skipped between two that arrived.</summary>
    public long GapEvents { get; private set; }

    /// <summary>Publish-to-receive time of each event, µs (valid only when the server shares this host's clock).</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary><see cref="Stopwatch.GetTimestamp"/> of the first and the last event; 0 before the first.</summary>
    public long FirstAt { get; private set; }

    public long LastAt { get; private set; }

    /// <summary>True when the connection broke, or the server closed it or ended the subscription, before the run stopped.</summary>
    public bool Dropped { get; private set; }

    /// <summary>What went wrong first, or null.</summary>
    public string? Problem { get; private set; }

    /// <summary>Subscribes, then reads until <paramref name="stop"/> fires (or, stalled, until subscribed). Never throws.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            await SendFrameAsync(WebSocketFraming.Text, s_subscribe, stop).ConfigureAwait(false);
            while (true)
            {
                if (!ProcessFrames(out bool closed))
                {
                    // Stalled and subscribed: never read again.
                    return;
                }

                if (closed)
                {
                    Fail("the server closed the connection");
                    return;
                }

                if (_pong is { } pong)
                {
                    _pong = null;
                    await SendFrameAsync(WebSocketFraming.Pong, pong, stop).ConfigureAwait(false);
                }

                MakeRoom();
                int received = await _socket.ReceiveAsync(_receive.AsMemory(_receiveEnd), SocketFlags.None, stop).ConfigureAwait(false);
                if (received == 0)
                {
                    Fail("the server ended the connection (TCP)");
                    return;
                }

                _receiveEnd += received;
            }
        }
        catch (OperationCanceledException)
        {
            // The run stopped.
            _subscribed.TrySetResult("no subscribe answer before the run stopped");
        }
        catch (Exception exception) when (exception is SocketException or IOException or InvalidDataException or JsonException)
        {
            Fail($"a subscriber's connection broke: {RpcConnectionException.Describe(exception)}");
        }
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>Handles every complete frame in the buffer; false when a stalled subscriber should stop reading.</summary>
    private bool ProcessFrames(out bool closed)
    {
        closed = false;
        while (WebSocketFraming.TryReadFrame(
            _receive.AsSpan(_receiveStart, _receiveEnd - _receiveStart), out byte opcode, out bool fin, out int payloadOffset, out int payloadLength))
        {
            ReadOnlySpan<byte> payload = _receive.AsSpan(_receiveStart + payloadOffset, payloadLength);
            _receiveStart += payloadOffset + payloadLength;
            switch (opcode)
            {
                case WebSocketFraming.Text or WebSocketFraming.Binary when fin:
                    HandleMessage(payload);
                    break;
                case WebSocketFraming.Text or WebSocketFraming.Binary or WebSocketFraming.Continuation:
                    // A fragmented message: rare, so it may allocate while it is assembled.
                    _fragments ??= new MemoryStream();
                    _fragments.Write(payload);
                    if (fin)
                    {
                        HandleMessage(_fragments.GetBuffer().AsSpan(0, (int)_fragments.Length));
                        _fragments.SetLength(0);
                    }

                    break;
                case WebSocketFraming.Close:
                    closed = true;
                    return true;
                case WebSocketFraming.Ping:
                    _pong = payload.ToArray();
                    break;
                default:
                    break;
            }

            if (_stalled && _subscribed.Task.IsCompleted)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The subscribe answer, or one event (or the subscription's <c>end</c>).</summary>
    private void HandleMessage(ReadOnlySpan<byte> message)
    {
        long now = Stopwatch.GetTimestamp();
        var reader = new Utf8JsonReader(message);
        reader.Read();
        bool isAnswer = false, isNotification = false, subscribedOk = false;
        long seq = 0, publishedAt = 0;
        string? end = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                isAnswer = true;
                reader.Read();
                reader.Skip();
            }
            else if (reader.ValueTextEquals("result"u8))
            {
                reader.Read();
                subscribedOk = reader.TokenType == JsonTokenType.String;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("method"u8))
            {
                isNotification = true;
                reader.Read();
            }
            else if (reader.ValueTextEquals("params"u8))
            {
                reader.Read();
                ReadParams(ref reader, out seq, out publishedAt, out end);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (isAnswer && !isNotification)
        {
            _subscribed.TrySetResult(subscribedOk ? null : "rpc.subscribe refused: " + Encoding.UTF8.GetString(message));
            return;
        }

        if (end is not null)
        {
            Fail($"the server ended a subscription: {end}");
            return;
        }

        if (seq > _lastSeq + 1)
        {
            GapEvents += seq - _lastSeq - 1;
        }

        Volatile.Write(ref _lastSeq, seq);
        Latency.RecordTicks(now - publishedAt);
        if (FirstAt == 0)
        {
            FirstAt = now;
        }

        LastAt = now;
        Volatile.Write(ref _delivered, _delivered + 1);
    }

    /// <summary><c>{"subscription":ID,"seq":N,"result":{"i":I,"t":T}}</c> or <c>{…,"end":REASON}</c>.</summary>
    private static void ReadParams(ref Utf8JsonReader reader, out long seq, out long publishedAt, out string? end)
    {
        seq = 0;
        publishedAt = 0;
        end = null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("seq"u8))
            {
                reader.Read();
                reader.TryGetInt64(out seq);
            }
            else if (reader.ValueTextEquals("end"u8))
            {
                reader.Read();
                end = reader.GetString();
            }
            else if (reader.ValueTextEquals("result"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    bool isTime = reader.ValueTextEquals("t"u8);
                    reader.Read();
                    if (isTime)
                    {
                        reader.TryGetInt64(out publishedAt);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private void Fail(string problem)
    {
        Dropped = true;
        Problem ??= problem;
        _subscribed.TrySetResult(problem);
    }

    /// <summary>Moves a cut frame to the front of the buffer, or grows the buffer for a frame larger than it.</summary>
    private void MakeRoom()
    {
        if (_receiveStart == _receiveEnd)
        {
            _receiveStart = _receiveEnd = 0;
        }
        else if (_receiveEnd == _receive.Length)
        {
            int pending = _receiveEnd - _receiveStart;
            if (_receiveStart == 0)
            {
                Array.Resize(ref _receive, _receive.Length * 2);
            }
            else
            {
                Buffer.BlockCopy(_receive, _receiveStart, _receive, 0, pending);
                _receiveStart = 0;
                _receiveEnd = pending;
            }
        }
    }

    private async Task SendFrameAsync(byte opcode, ReadOnlyMemory<byte> payload, CancellationToken stop)
    {
        // xorshift32: a new mask per frame, as RFC 6455 §5.3 asks.
        _mask ^= _mask << 13;
        _mask ^= _mask >> 17;
        _mask ^= _mask << 5;
        int length = WebSocketFraming.WriteClientFrame(_send, opcode, payload.Span, _mask);
        int sent = 0;
        while (sent < length)
        {
            sent += await _socket.SendAsync(_send.AsMemory(sent, length - sent), SocketFlags.None, stop).ConfigureAwait(false);
        }
    }
}
