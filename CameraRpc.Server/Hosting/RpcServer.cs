using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using CameraRpc.Protocol;
using CameraRpc.Server.Configuration;
using CameraRpc.Server.Endpoints;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Metrics;
using CameraRpc.Server.Security;
using CameraRpc.Server.Transport;

namespace CameraRpc.Server.Hosting;

/// <summary>
/// The server as a library: one <see cref="HttpListener"/> serving JSON-RPC over WebSocket and HTTP,
/// <c>/healthz</c> and <c>/metrics</c> on one port. Started and stopped in process, so tests can host
/// it with methods of their own; <c>Program</c> only adds options and signals.
/// </summary>
/// <remarks>
/// Lifecycle: <see cref="Start"/> binds (throws <see cref="HttpListenerException"/> when it cannot),
/// <see cref="StopAsync"/> runs the graceful shutdown of CONTRACT section 5 and is idempotent.
/// </remarks>
internal sealed partial class RpcServer : IAsyncDisposable
{
    private readonly ServerOptions _options;
    private readonly ServerLog _log;
    private readonly ServerMetrics _metrics;
    private readonly HttpListener _listener = new();
    private readonly ConnectionRegistry _connections;
    private readonly RequestAuthorizer _authorizer;
    private readonly AccessControl _access;
    private readonly HttpRpcEndpoint _httpEndpoint;
    private readonly CancellationTokenSource _stopped = new();
    private readonly CancellationTokenSource _httpCalls = new(); // cancelled when shutdown runs out of time
    private readonly TaskCompletionSource _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _httpCallsInFlight;
    private Task? _acceptLoop;
    private Task? _idleSweeper;
    private Task? _hangUpSweeper;
    private Task? _housekeeping;
    private Task? _stopTask;
    private volatile bool _stopping;

    /// <param name="access">The access rules built at startup (<see cref="AccessControl.TryCreate"/>); null builds them here and throws when the tokens file does not read.</param>
    public RpcServer(ServerOptions options, RpcMethodTable methods, ServerLog log, ServerMetrics metrics, AccessControl? access = null)
    {
        if (access is null && !AccessControl.TryCreate(options, metrics.RateLimited, out access, out string? accessError))
        {
            throw new InvalidOperationException(accessError);
        }

        _access = access;
        _options = options;
        _log = log;
        _metrics = metrics;
        Dispatcher = new RpcDispatcher(methods, new RpcDispatcherOptions
        {
            MaxBatch = options.MaxBatch,
            Logger = log,
            Observer = metrics,
        });
        _connections = new ConnectionRegistry(options.MaxConnections);
        _authorizer = new RequestAuthorizer(access, options.AllowedOrigins);
        _httpEndpoint = new HttpRpcEndpoint(Dispatcher, log, options.MaxMessageBytes, access);
    }

    /// <summary>The engine every endpoint calls.</summary>
    public RpcDispatcher Dispatcher { get; }

    /// <summary>The port listened on (the real one when <c>--port 0</c> was given); valid after <see cref="Start"/>.</summary>
    public int Port { get; private set; }

    /// <summary>The WebSocket URL clients use, e.g. <c>ws://0.0.0.0:8002/ws</c>.</summary>
    public string Url => string.Create(CultureInfo.InvariantCulture, $"ws://{UrlHost(_options.Host)}:{Port}{_options.Path}");

    /// <summary>WebSocket connections open now.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>True once shutdown has begun.</summary>
    public bool IsStopping => _stopping;

    /// <summary>Completes when <see cref="RequestStop"/> is called (by a signal handler, for instance).</summary>
    public Task StopRequested => _stopRequested.Task;

    /// <summary>Binds and starts serving. Logs the two startup lines with the real port.</summary>
    public void Start()
    {
        Port = ListenerBinding.Start(
            _listener, _options.Host, _options.Port, port => _log.Starting(_options.Host, port, _options.Path), out bool tuned);
        if (!tuned)
        {
            _log.Warning("Could not set TCP_NODELAY and keep-alive on the listening socket; pipelined answers may be delayed");
        }

        _log.Started(Url);
        _acceptLoop = AcceptLoopAsync();
        if (_options.IdleTimeout > TimeSpan.Zero)
        {
            _idleSweeper = SweepIdleConnectionsAsync();
        }

        _hangUpSweeper = SweepHungUpClientsAsync();
        _housekeeping = MemoryHousekeeping.RunAsync(_metrics, _log, _stopped.Token);
    }

    /// <summary>Asks for a graceful stop; whoever awaits <see cref="StopRequested"/> then calls <see cref="StopAsync"/>.</summary>
    public void RequestStop() => _stopRequested.TrySetResult();

    /// <summary>
    /// Graceful shutdown: <c>/healthz</c> turns 503 and new calls get -32000; calls in flight finish
    /// (up to <c>--shutdown-timeout</c>, then they are cancelled); every client gets close 1001, and a
    /// client that does not answer it within a second is dropped, before the listener stops. (Upgraded
    /// connections are no longer HttpListener's: its Stop closes only plain HTTP ones.)
    /// </summary>
    public Task StopAsync() => _stopTask ??= StopCoreAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopped.Dispose();
        _httpCalls.Dispose();
    }

    private async Task StopCoreAsync()
    {
        _stopping = true;
        Dispatcher.BeginShutdown();
        long started = Stopwatch.GetTimestamp();
        WebSocketConnection[] open = _connections.Snapshot();
        foreach (WebSocketConnection connection in open)
        {
            connection.MarkDrainTarget();
        }

        _log.Info(string.Create(CultureInfo.InvariantCulture,
            $"Shutting down: waiting for {CallsInFlight()} call(s) in flight on {open.Length} connection(s) (up to {_options.ShutdownTimeout.TotalSeconds:0.###} s)"));

        // Each connection gets its 1001 as soon as it is drained: its calls have answered and every
        // message that reached the server before the signal has been read (and answered -32000 if it
        // came too late to run). Connections and calls live everywhere, and shutdown is rare, so this
        // polls rather than wiring a notification through every call.
        var closing = new HashSet<WebSocketConnection>();
        using (var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10)))
        {
            while (true)
            {
                foreach (WebSocketConnection connection in open)
                {
                    if (!closing.Contains(connection) && connection.IsDrained)
                    {
                        closing.Add(connection);
                        connection.BeginClose(WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
                    }
                }

                if ((closing.Count == open.Length && Volatile.Read(ref _httpCallsInFlight) == 0)
                    || Stopwatch.GetElapsedTime(started) >= _options.ShutdownTimeout)
                {
                    break;
                }

                await timer.WaitForNextTickAsync().ConfigureAwait(false);
            }
        }

        long timeoutReached = Stopwatch.GetTimestamp();
        int unfinished = CallsInFlight();
        if (unfinished > 0)
        {
            _log.Warning(string.Create(CultureInfo.InvariantCulture,
                $"Shutdown timeout reached with {unfinished} call(s) still running; cancelling them"));
        }

        // A call that honours its CancellationToken ends at once with -32000; its connection is closed
        // once that answer is queued (an HTTP call answers its request), so the client learns what
        // became of the call. A call that ignores its token is not waited for beyond ShutdownCancelGrace.
        _httpCalls.Cancel();
        var cancelled = new List<WebSocketConnection>();
        foreach (WebSocketConnection connection in open)
        {
            if (!closing.Contains(connection))
            {
                connection.CancelCalls();
                cancelled.Add(connection);
            }
        }

        using (var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10)))
        {
            while (cancelled.Count > 0 || Volatile.Read(ref _httpCallsInFlight) > 0)
            {
                bool graceOver = Stopwatch.GetElapsedTime(timeoutReached) >= _options.ShutdownCancelGrace;
                for (int i = cancelled.Count - 1; i >= 0; i--)
                {
                    if (cancelled[i].IsDrained || graceOver)
                    {
                        closing.Add(cancelled[i]);
                        cancelled[i].BeginClose(WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
                        cancelled.RemoveAt(i);
                    }
                }

                if (graceOver)
                {
                    break;
                }

                await timer.WaitForNextTickAsync().ConfigureAwait(false);
            }
        }

        int abandoned = CallsInFlight();
        if (unfinished > 0 && abandoned > 0)
        {
            _log.Warning(string.Create(CultureInfo.InvariantCulture,
                $"{abandoned} call(s) did not end when cancelled; their clients get no answer"));
        }

        _log.Info(string.Create(CultureInfo.InvariantCulture, $"Closed {open.Length} client connection(s) with 1001 (server shutting down)"));

        // Clients answer the close frame at once; what is left of the second after the timeout is plenty,
        // and keeps the exit within --shutdown-timeout + 1 s. Whoever has not answered by then is dropped.
        using (var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10)))
        {
            while (_connections.Count > 0 && Stopwatch.GetElapsedTime(timeoutReached) < TimeSpan.FromSeconds(1))
            {
                await timer.WaitForNextTickAsync().ConfigureAwait(false);
            }
        }

        foreach (WebSocketConnection connection in _connections.Snapshot())
        {
            connection.Abort();
        }

        _stopped.Cancel();
        try
        {
            _listener.Stop();
            _listener.Close();
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }

        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        if (_idleSweeper is not null)
        {
            await _idleSweeper.ConfigureAwait(false);
        }

        if (_hangUpSweeper is not null)
        {
            await _hangUpSweeper.ConfigureAwait(false);
        }

        if (_housekeeping is not null)
        {
            await _housekeeping.ConfigureAwait(false);
        }

        _log.Info("Server stopped");
    }

    private int CallsInFlight() => _connections.CallsInFlight() + Volatile.Read(ref _httpCallsInFlight);

    private async Task AcceptLoopAsync()
    {
        while (!_stopped.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                if (_stopped.IsCancellationRequested)
                {
                    break;
                }

                _log.Warning($"Accept failed: {exception.Message}");
                continue;
            }

            _ = HandleAsync(context);
        }
    }

    /// <summary>Every <see cref="WebSocketConnection.PeerCheckInterval"/>: cancels the calls of connections under back-pressure whose client hung up.</summary>
    private async Task SweepHungUpClientsAsync()
    {
        using var timer = new PeriodicTimer(WebSocketConnection.PeerCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopped.Token).ConfigureAwait(false))
            {
                _connections.CancelCallsOfHungUpClients();
            }
        }
        catch (OperationCanceledException)
        {
            // Shutdown.
        }
    }

    private async Task SweepIdleConnectionsAsync()
    {
        TimeSpan timeout = _options.IdleTimeout;
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds / 4, 50, 1000));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopped.Token).ConfigureAwait(false))
            {
                long now = Environment.TickCount64;
                foreach (WebSocketConnection connection in _connections.Snapshot())
                {
                    // A connection waiting for an answer is not idle, however long the call takes.
                    // Logged once: the connection stays in the registry until its client answers the close.
                    if (connection.CallsInFlight == 0 && now - connection.LastActivity >= (long)timeout.TotalMilliseconds
                        && connection.BeginClose(WebSocketCloseStatus.EndpointUnavailable, "idle timeout"))
                    {
                        _log.Info($"Closing idle connection {connection.RemoteEndPoint} (no message for {timeout.TotalSeconds:0.###} s)");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutdown.
        }
    }

    private static string UrlHost(string host) =>
        IPAddress.TryParse(host, out IPAddress? address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? "[" + host + "]"
            : host;
}
