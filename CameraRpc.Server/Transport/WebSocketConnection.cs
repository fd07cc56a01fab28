using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using CameraRpc.Protocol;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Security;
using CameraRpc.Server.Metrics;

namespace CameraRpc.Server.Transport;

/// <summary>
/// One WebSocket peer: a read loop that assembles messages and starts their calls, and a single
/// writer that sends answers, notifications and finally the close frame, in that order.
/// </summary>
/// <remarks>
/// <para>Concurrency: one reader and one writer at a time, as a WebSocket allows one receive and one
/// send at a time. Calls run concurrently up to <c>--max-concurrency</c>; the reader takes a permit
/// before it reads the next message, so a connection at its limit simply stops reading (back-pressure
/// through TCP) and no message is ever dropped. Answers go into a queue whose byte size is capped (a
/// client that sends but never reads is aborted rather than buffered forever); whichever thread finds
/// no writer active becomes the writer and sends the whole queue in one socket write (all of which is
/// <see cref="OutboundWriter"/>'s job).</para>
/// <para>Memory: a message buffer is rented from the pool only while a message is being read and
/// dispatched (<see cref="MessageAssembler"/>); between messages the connection waits in a zero-byte
/// receive (what its stream does then is up to <see cref="ConnectionReadBuffer"/>: nothing for a
/// connection that never sent anything, a 2 KiB read buffer of its own for one that has).</para>
/// </remarks>
internal sealed partial class WebSocketConnection : IRpcNotificationSink, IRpcSubscriptionSink
{
    private const int InitialReceiveSize = 4096;

    /// <summary>How long a client gets to answer our close frame before the connection is aborted.</summary>
    internal static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How often the server looks whether the client of a connection under back-pressure has hung up.</summary>
    internal static readonly TimeSpan PeerCheckInterval = TimeSpan.FromMilliseconds(500);

    private readonly WebSocket _socket;
    private readonly ConnectionStream? _stream;
    private readonly WebSocket? _listenerSocket;
    private readonly RpcDispatcher _dispatcher;
    private readonly ServerLog _log;
    private readonly ServerMetrics _metrics;
    private readonly int _maxMessageBytes;
    private readonly int _maxConcurrency;
    private readonly bool _countsMessageBytes;
    private readonly SemaphoreSlim _permits;
    private readonly CancellationTokenSource _calls = new();
    private readonly OutboundWriter _writer;

    private MessageAssembler _message;
    private int _callsInFlight;
    private int _awaitingMessage;
    private long _drainTarget = long.MaxValue;
    private long _lastActivity = Environment.TickCount64;
    private int _awaitingPermit; // 1 while the read loop waits for a call slot (back-pressure)
    private HeldMessage? _held;  // a message waiting for a call slot while the read loop reads on for cancels

    public WebSocketConnection(
        long id, UpgradedWebSocket upgraded, IPEndPoint? remoteEndPoint, RpcDispatcher dispatcher, ServerLog log, ServerMetrics metrics,
        int maxMessageBytes, int maxConcurrency, CallAdmission? admission = null, string? display = null)
    {
        Id = id;
        Admission = admission;
        _socket = upgraded.Socket;
        _stream = upgraded.Stream;
        _listenerSocket = upgraded.ListenerSocket;
        _dispatcher = dispatcher;
        _log = log;
        _metrics = metrics;
        _maxMessageBytes = maxMessageBytes;
        _maxConcurrency = maxConcurrency;

        _permits = new SemaphoreSlim(maxConcurrency, maxConcurrency);
        _message = new MessageAssembler(maxMessageBytes);
        RemoteEndPoint = display ?? remoteEndPoint?.ToString() ?? "unknown";

        // Enough for every call in flight to have a full-size answer waiting, and then some.
        long maxQueuedBytes = Math.Max(4L * maxMessageBytes, 16L * 1024 * 1024);

        // With permessage-deflate, small answers skip the compressor, and the byte counters count what
        // crosses the socket (compressed) instead of the messages (CONTRACT section 2, /metrics).
        _countsMessageBytes = upgraded.Deflate is null || _stream is null;
        if (!_countsMessageBytes)
        {
            _stream!.Socket.CountWireBytes(metrics);
        }

        _writer = new OutboundWriter(
            _socket, _stream?.Batch, log, metrics, RemoteEndPoint, maxQueuedBytes,
            compressFromBytes: upgraded.Deflate?.CompressFromBytes ?? int.MaxValue, countsMessageBytes: _countsMessageBytes);
        Context = new RpcContext(dispatcher, id, remoteEndPoint, this) { Admission = admission };
    }

    /// <summary>A number unique to this connection within the process.</summary>
    public long Id { get; }

    /// <summary>Scopes and rate limits of this connection (its token is rebound on a SIGHUP reload); null when nothing is checked.</summary>
    public CallAdmission? Admission { get; }

    /// <summary>The client's address as logged, e.g. <c>127.0.0.1:54321</c>.</summary>
    public string RemoteEndPoint { get; }

    /// <summary>What the connection's calls see.</summary>
    public RpcContext Context { get; }

    /// <summary><see cref="Environment.TickCount64"/> of the last inbound message (for <c>--idle-timeout</c>).</summary>
    public long LastActivity => Volatile.Read(ref _lastActivity);

    /// <summary>Messages of this connection whose calls are running now (not counting the read loop's wait).</summary>
    public int CallsInFlight => Volatile.Read(ref _callsInFlight);

    /// <summary>Where everything this connection sends goes: answers, notifications, scheduled sources, the close frame.</summary>
    public OutboundWriter Outbound => _writer;

    /// <summary>
    /// Shutdown begins: remembers how many bytes the client had sent by now (read or waiting in the
    /// kernel), so that <see cref="IsDrained"/> can tell when every message that reached the server
    /// before the signal has been read and answered.
    /// </summary>
    public void MarkDrainTarget() =>
        Volatile.Write(ref _drainTarget, _stream is null ? 0 : _stream.Socket.BytesRead + _stream.Socket.Available);

    /// <summary>
    /// True when the close frame can go out without cutting off an answer: no call is running, the read
    /// loop is waiting for a new message, and everything received before <see cref="MarkDrainTarget"/>
    /// has been read.
    /// </summary>
    public bool IsDrained =>
        CallsInFlight == 0
        && !IsHolding // a held message given a slot is not in flight until its dispatch starts
        && Volatile.Read(ref _awaitingMessage) == 1
        && (_stream is null || (_stream.ReadBuffer.BufferedCount == 0 && _stream.Socket.BytesRead >= Volatile.Read(ref _drainTarget)));

    /// <summary>Serves the connection until it is closed or broken. Never throws.</summary>
    public async Task RunAsync()
    {
        CloseReason reason;
        try
        {
            reason = await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            reason = CloseReason.Faulted;
        }
        catch (Exception exception)
        {
            // A bug of ours: the connection is closed and released below like a broken one, not left open and unread.
            _log.ConnectionFailed(RemoteEndPoint, exception);
            reason = CloseReason.Faulted;
        }

        // CONTRACT section 6: a disconnect ends every subscription, silently; nothing of it stays behind.
        RpcConnectionSubscriptions.CloseAll(Context);
        _writer.FlushDeferred(); // the read loop holds nothing back any more
        if (reason != CloseReason.MessageTooBig)
        {
            // The client is gone or has said goodbye (CONTRACT: a disconnect cancels its calls). After a
            // close that we started (shutdown, idle timeout) no call is running any more anyway.
            _calls.Cancel();
        }

        // Every call of this connection ends before its answers are flushed and the close goes out.
        await WaitForCallsAsync().ConfigureAwait(false);
        if (reason == CloseReason.MessageTooBig)
        {
            _writer.EnqueueClose(WebSocketCloseStatus.MessageTooBig, $"message larger than {_maxMessageBytes} bytes");
        }
        else if (reason == CloseReason.PeerClosed)
        {
            // Answer the client's close (a no-op when the close was ours and this was its reply).
            _writer.EnqueueClose(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, string.Empty);
        }

        await _writer.FlushedAsync().ConfigureAwait(false);

        if (reason == CloseReason.MessageTooBig)
        {
            await AwaitCloseReplyAsync().ConfigureAwait(false);
        }

        _socket.Abort(); // releases the socket whatever state the handshake reached
        _socket.Dispose();
        _listenerSocket?.Dispose(); // fallback path only: closes the TCP connection and unregisters it from HttpListener
        _calls.Dispose();
        _log.ConnectionClosed(RemoteEndPoint, (int)(_socket.CloseStatus ?? WebSocketCloseStatus.Empty), reason.ToString());
    }

    /// <summary>
    /// Starts a server-side close: answers already queued go first, then the close frame. The read
    /// loop ends when the client answers it; a client that does not is aborted after
    /// <see cref="CloseHandshakeTimeout"/>.
    /// </summary>
    /// <returns>True when this call started the close; false when a close was already under way.</returns>
    public bool BeginClose(WebSocketCloseStatus status, string description)
    {
        if (!_writer.EnqueueClose(status, description))
        {
            return false;
        }

        _ = AbortIfNotClosedAsync();
        return true;
    }

    /// <summary>Cancels the calls still running (shutdown ran out of time, or the client is gone).</summary>
    public void CancelCalls()
    {
        try
        {
            _calls.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished.
        }
    }

    /// <inheritdoc />
    public ValueTask SendNotificationAsync(RpcResponseBuffer message, CancellationToken cancellationToken)
    {
        _writer.Enqueue(message, WebSocketMessageType.Text);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Events share the connection's outbound path with the answers: the writer pulls them in turn
    /// (<see cref="SubscriptionSource"/>), so they never wait in the writer's queue as finished messages.
    /// </remarks>
    public void Schedule(RpcSubscription subscription)
    {
        var source = (SubscriptionSource?)subscription.TransportState;
        if (source is null)
        {
            source = new SubscriptionSource(subscription, _log, RemoteEndPoint);
            subscription.TransportState = source; // one schedule at a time: the subscription's own flag sees to it
        }

        _writer.Schedule(source);
    }

    /// <inheritdoc />
    public void WriteNow(RpcSubscription subscription) => _writer.WriteNow();

    /// <summary>Drops the connection at once, without a close handshake.</summary>
    public void Abort() => _socket.Abort();

    private async Task AbortIfNotClosedAsync()
    {
        await Task.Delay(CloseHandshakeTimeout).ConfigureAwait(false);
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseSent or WebSocketState.CloseReceived)
        {
            _socket.Abort();
        }
    }

    private async Task WaitForCallsAsync()
    {
        // Holding every permit means no call is running.
        for (int i = 0; i < _maxConcurrency; i++)
        {
            await _permits.WaitAsync().ConfigureAwait(false);
        }

        _permits.Release(_maxConcurrency);
    }

    /// <summary>After our 1009, reads and discards until the client's close frame, for a clean handshake.</summary>
    private async Task AwaitCloseReplyAsync()
    {
        using var timeout = new CancellationTokenSource(CloseHandshakeTimeout);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(InitialReceiveSize);
        try
        {
            while (_socket.State == WebSocketState.CloseSent)
            {
                ValueWebSocketReceiveResult result = await _socket.ReceiveAsync(scratch.AsMemory(), timeout.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client did not finish the handshake; the abort that follows is all that is left.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
