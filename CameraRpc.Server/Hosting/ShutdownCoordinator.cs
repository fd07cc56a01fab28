using System.Diagnostics;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using CameraRpc.Protocol;
using CameraRpc.Server.Configuration;
using CameraRpc.Server.Endpoints;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Transport;

namespace CameraRpc.Server.Hosting;

/// <summary>
/// The graceful shutdown of CONTRACT section 5, in order: stop taking work, drain, cancel what the
/// timeout cut off, close every client with 1001, stop listening. Also the signals that start it.
/// </summary>
/// <remarks>
/// <para>The one place that decides the shutdown order: <see cref="StopCoreAsync"/> reads top to bottom.
/// It polls (every <see cref="PollInterval"/>) rather than wiring a notification through every call
/// and connection: connections and calls live everywhere, and shutdown is rare.</para>
/// <para>Thread-safe: <see cref="OnSignal"/> may come from a signal thread at any moment, and
/// <see cref="StopAsync"/> is idempotent.</para>
/// </remarks>
internal sealed class ShutdownCoordinator
{
    /// <summary>How often the drain looks at the connections and calls.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>How long clients get to answer the 1001, counted from the timeout (or the drain's end before it).</summary>
    internal static readonly TimeSpan CloseReplyWait = TimeSpan.FromSeconds(1);

    private const string CloseDescription = "server shutting down";

    private readonly ServerOptions _options;
    private readonly RpcDispatcher _dispatcher;
    private readonly ConnectionRegistry _connections;
    private readonly HttpRpcEndpoint _httpCalls;
    private readonly ServerLog _log;
    private readonly Func<Task> _stopListening;
    private readonly TaskCompletionSource _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stopLock = new();
    private Task? _stopTask;
    private int _signals;
    private volatile bool _stopping;

    /// <param name="stopListening">Stops the listener and the host's background loops (the last step).</param>
    public ShutdownCoordinator(
        ServerOptions options, RpcDispatcher dispatcher, ConnectionRegistry connections, HttpRpcEndpoint httpCalls, ServerLog log,
        Func<Task> stopListening)
    {
        _options = options;
        _dispatcher = dispatcher;
        _connections = connections;
        _httpCalls = httpCalls;
        _log = log;
        _stopListening = stopListening;
    }

    /// <summary>True once shutdown has begun: <c>/healthz</c> answers 503, upgrades are refused.</summary>
    public bool IsStopping => _stopping;

    /// <summary>Completes when a stop is asked for (<see cref="RequestStop"/>, or the first signal).</summary>
    public Task StopRequested => _stopRequested.Task;

    /// <summary>Asks for a graceful stop; whoever awaits <see cref="StopRequested"/> then calls <see cref="StopAsync"/>.</summary>
    public void RequestStop() => _stopRequested.TrySetResult();

    /// <summary>
    /// SIGTERM or SIGINT arrived. The first asks for a graceful stop; a second means the operator
    /// will not wait for it.
    /// </summary>
    /// <returns>True when the process should exit at once (the second signal).</returns>
    public bool OnSignal(PosixSignal signal)
    {
        if (Interlocked.Increment(ref _signals) == 1)
        {
            _log.SignalReceived(signal);
            RequestStop();
            return false;
        }

        _log.SignalRepeated(signal);
        return true;
    }

    /// <summary>Runs the shutdown once; later calls get the same task.</summary>
    public Task StopAsync()
    {
        lock (_stopLock)
        {
            return _stopTask ??= StopCoreAsync();
        }
    }

    private async Task StopCoreAsync()
    {
        // 1. Stop taking work: /healthz turns 503, upgrades get 503, new calls get -32000.
        _stopping = true;
        _dispatcher.BeginShutdown();
        long started = Stopwatch.GetTimestamp();
        WebSocketConnection[] open = _connections.Snapshot();
        foreach (WebSocketConnection connection in open)
        {
            connection.MarkDrainTarget();

            // CONTRACT section 6: every subscription ends with "shutdown", queued ahead of the 1001.
            RpcConnectionSubscriptions.EndAll(connection.Context, RpcSubscriptionEndReason.Shutdown);
        }

        _log.ShutdownStarted(CallsInFlight(), open.Length, _options.ShutdownTimeout);

        // 2. Drain. Each connection gets its 1001 as soon as it is drained: its calls have answered and
        // every message that reached the server before the signal has been read (and answered -32000
        // if it came too late to run). At --shutdown-timeout the calls still running are cancelled: a
        // call that honours its token ends at once with -32000, and its connection is closed once that
        // answer is queued (an HTTP call answers its request), so the client learns what became of the
        // call. A call that ignores its token is not waited for beyond ShutdownCancelGrace.
        var waiting = new List<WebSocketConnection>(open); // not closed yet
        int unfinished = 0; // calls still running at the timeout
        long cancelledAt = 0; // when they were cancelled; 0 while the timeout has not run out
        using (var timer = new PeriodicTimer(PollInterval))
        {
            while (true)
            {
                CloseDrained(waiting);
                if (waiting.Count == 0 && _httpCalls.CallsInFlight == 0)
                {
                    break;
                }

                if (cancelledAt == 0 && Stopwatch.GetElapsedTime(started) >= _options.ShutdownTimeout)
                {
                    unfinished = CallsInFlight();
                    if (unfinished > 0)
                    {
                        _log.ShutdownTimeoutReached(unfinished);
                    }

                    _httpCalls.CancelCalls();
                    waiting.ForEach(static connection => connection.CancelCalls());
                    cancelledAt = Stopwatch.GetTimestamp();
                }
                else if (cancelledAt != 0 && Stopwatch.GetElapsedTime(cancelledAt) >= _options.ShutdownCancelGrace)
                {
                    waiting.ForEach(static connection => connection.BeginClose(WebSocketCloseStatus.EndpointUnavailable, CloseDescription));
                    break;
                }

                await timer.WaitForNextTickAsync().ConfigureAwait(false);
            }
        }

        // From here on no HTTP request is waited for: one still reading its body is dropped when the listener stops.
        _httpCalls.CancelCalls();
        long closeWaitStart = cancelledAt != 0 ? cancelledAt : Stopwatch.GetTimestamp(); // the timeout, or the drain's end before it
        int abandoned = CallsInFlight();
        if (unfinished > 0 && abandoned > 0)
        {
            _log.CallsAbandoned(abandoned);
        }

        _log.ClientsClosedForShutdown(open.Length);

        // 3. Close. Clients answer the close frame at once; what is left of CloseReplyWait after the
        // timeout (or the drain's end) is plenty, and keeps the exit within --shutdown-timeout + 1 s.
        // Whoever has not answered by then is dropped.
        using (var timer = new PeriodicTimer(PollInterval))
        {
            while (_connections.Count > 0 && Stopwatch.GetElapsedTime(closeWaitStart) < CloseReplyWait)
            {
                await timer.WaitForNextTickAsync().ConfigureAwait(false);
            }
        }

        foreach (WebSocketConnection connection in _connections.Snapshot())
        {
            connection.Abort();
        }

        // 4. Stop listening (upgraded connections are no longer HttpListener's: its Stop closes only plain HTTP ones).
        await _stopListening().ConfigureAwait(false);
        _log.Stopped();
    }

    /// <summary>Sends 1001 to every connection of <paramref name="waiting"/> that is drained, and forgets it.</summary>
    private static void CloseDrained(List<WebSocketConnection> waiting)
    {
        for (int i = waiting.Count - 1; i >= 0; i--)
        {
            if (waiting[i].IsDrained)
            {
                waiting[i].BeginClose(WebSocketCloseStatus.EndpointUnavailable, CloseDescription);
                waiting.RemoveAt(i);
            }
        }
    }

    private int CallsInFlight() => _connections.CallsInFlight() + _httpCalls.CallsInFlight;
}
