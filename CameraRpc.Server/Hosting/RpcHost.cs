using System.Globalization;
using System.Net;
using CameraRpc.Protocol;
using CameraRpc.Server.Configuration;
using CameraRpc.Server.Endpoints;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Metrics;
using CameraRpc.Server.Security;

namespace CameraRpc.Server.Hosting;

/// <summary>
/// The server as a library: one <see cref="HttpListener"/> serving JSON-RPC over WebSocket and HTTP,
/// <c>/healthz</c> and <c>/metrics</c> on one port. Builds the parts, accepts requests and hands each
/// to the <see cref="RequestRouter"/>; the <see cref="ShutdownCoordinator"/> stops it. Started and stopped
/// in process, so tests can host it with methods of their own; <c>serve</c> only adds options and signals.
/// </summary>
/// <remarks>
/// Lifecycle: <see cref="Start"/> binds (throws <see cref="HttpListenerException"/> when it cannot),
/// <see cref="StopAsync"/> runs the graceful shutdown of CONTRACT section 5 and is idempotent.
/// </remarks>
internal sealed class RpcHost : IAsyncDisposable
{
    private readonly ServerOptions _options;
    private readonly ServerLog _log;
    private readonly ServerMetrics _metrics;
    private readonly HttpListener _listener = new();
    private readonly ConnectionRegistry _connections;
    private readonly RequestRouter _router;
    private readonly CancellationTokenSource _stopped = new();
    private Task[] _loops = [];

    /// <param name="access">The access rules built at startup (<see cref="AccessControl.TryCreate"/>); null builds them here and throws when the tokens file does not read.</param>
    public RpcHost(ServerOptions options, RpcMethodTable methods, ServerLog log, ServerMetrics metrics, AccessControl? access = null)
    {
        if (access is null && !AccessControl.TryCreate(options, metrics.RateLimited, out access, out string? accessError))
        {
            throw new InvalidOperationException(accessError);
        }

        _options = options;
        _log = log;
        _metrics = metrics;
        _connections = new ConnectionRegistry(options.MaxConnections);

        // The built-in topic server.stats is this host's own (CONTRACT section 6), next to the methods.
        Stats = new Subscriptions.ServerStatsTopic(metrics, () => _connections.Count);
        methods = RpcMethodTable.Combine(methods, new RpcMethodTable([], [Stats.Info]));

        // The fan-out benchmark's publisher lives in the server's process; off, its topic and method do not exist.
        if (options.BenchTopics)
        {
            methods = RpcMethodTable.Combine(methods, new Subscriptions.BenchTopics().Table);
        }

        foreach (RpcTopicInfo topic in methods.Topics)
        {
            metrics.Subscriptions.Register(topic.Name);
        }

        var dispatcher = new RpcDispatcher(methods, new RpcDispatcherOptions
        {
            MaxBatch = options.MaxBatch,
            Logger = log,
            Observer = new CallObservers(metrics, new HandlerFailureLog(log)),
            MaxSubscriptions = options.MaxSubscriptions,
            SubscriptionObserver = new Subscriptions.SubscriptionObserver(log, metrics.Subscriptions),
        });
        var authorizer = new RequestAuthorizer(access, options.AllowedOrigins);
        Tokens = new TokensReloader(access, _connections, log);
        var httpRpc = new HttpRpcEndpoint(dispatcher, _connections, authorizer, log, metrics, options.MaxMessageBytes, access);
        Shutdown = new ShutdownCoordinator(options, dispatcher, _connections, httpRpc, log, StopListeningAsync);
        _router = new RequestRouter(
            options.Path,
            webSocket: new WebSocketEndpoint(options, dispatcher, _connections, Shutdown, authorizer, access, log, metrics),
            httpRpc: httpRpc,
            health: new HealthEndpoint(Shutdown, _connections),
            metrics: new MetricsEndpoint(metrics),
            log,
            console: options.Console ? new ConsoleEndpoint(options.Path) : null);
    }

    /// <summary>Re-reads <c>--tokens-file</c> (SIGHUP).</summary>
    public TokensReloader Tokens { get; }

    /// <summary>Runs the shutdown, and the signals that ask for it.</summary>
    public ShutdownCoordinator Shutdown { get; }

    /// <summary>This host's <c>server.stats</c> topic; it ticks from <see cref="Start"/> until the listener stops.</summary>
    internal Subscriptions.ServerStatsTopic Stats { get; }

    /// <summary>The port listened on (the real one when <c>--port 0</c> was given); valid after <see cref="Start"/>.</summary>
    public int Port { get; private set; }

    /// <summary>The WebSocket URL clients use, e.g. <c>ws://0.0.0.0:8002/ws</c>.</summary>
    public string Url => string.Create(CultureInfo.InvariantCulture, $"ws://{UrlHost(_options.Host)}:{Port}{_options.Path}");

    /// <summary>Binds and starts serving. Logs the two startup lines with the real port.</summary>
    public void Start()
    {
        Port = ListenerBinding.Start(
            _listener, _options.Host, _options.Port, port => _log.Starting(_options.Host, port, _options.Path), out bool tuned);
        if (!tuned)
        {
            _log.ListenerNotTuned();
        }

        _log.Started(Url);
        if (_options.BenchTopics)
        {
            _log.BenchTopicsOn(Subscriptions.BenchTopics.TopicName, Subscriptions.BenchTopics.PublishMethodName);
        }

        var loops = new List<Task>
        {
            AcceptLoopAsync(),
            ConnectionSweeps.CancelCallsOfHungUpClientsAsync(_connections, _stopped.Token),
            MemoryHousekeeping.RunAsync(_metrics, _log, _stopped.Token),
            Stats.RunAsync(_stopped.Token),
        };
        if (_options.IdleTimeout > TimeSpan.Zero)
        {
            loops.Add(ConnectionSweeps.CloseIdleConnectionsAsync(_connections, _options.IdleTimeout, _log, _stopped.Token));
        }

        _loops = [.. loops];
    }

    /// <summary>The graceful shutdown (<see cref="ShutdownCoordinator"/>); idempotent.</summary>
    public Task StopAsync() => Shutdown.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopped.Dispose();
    }

    /// <summary>The last step of the shutdown: stops accepting and waits for the host's loops to end.</summary>
    private async Task StopListeningAsync()
    {
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

        await Task.WhenAll(_loops).ConfigureAwait(false);
    }

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

                _log.AcceptFailed(exception);
                continue;
            }

            _ = _router.HandleAsync(context);
        }
    }

    private static string UrlHost(string host) =>
        IPAddress.TryParse(host, out IPAddress? address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? "[" + host + "]"
            : host;
}
