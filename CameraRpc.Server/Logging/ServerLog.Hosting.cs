using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;

namespace CameraRpc.Server.Logging;

/// <summary>
/// The hosting's log events: startup, requests refused at the door, connections closed by the server,
/// signals and the shutdown. One method per event; each line's text is pinned by tests and the README.
/// </summary>
internal sealed partial class ServerLog
{
    // --- startup (ServeCommand, RpcHost) ---

    public void OptionsRead(string configFile)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, $"Options read from {configFile}");
        }
    }

    public void OpenFilesLimit(ulong before, ulong now)
    {
        if (IsEnabled(LogLevel.Debug))
        {
            Write(LogLevel.Debug, before == now
                ? string.Create(CultureInfo.InvariantCulture, $"Open files limit: {now}")
                : string.Create(CultureInfo.InvariantCulture, $"Open files limit raised from {before} to {now} (the hard limit)"));
        }
    }

    public void OpenFilesLimitTooLow(ulong openFiles, int maxConnections, ulong headroom)
    {
        if (IsEnabled(LogLevel.Warning))
        {
            ulong reachable = openFiles > headroom ? openFiles - headroom : 0;
            Write(LogLevel.Warning, string.Create(CultureInfo.InvariantCulture,
                $"Open files limit is {openFiles}, too low for --max-connections {maxConnections}: about {reachable} clients can connect; raise it with LimitNOFILE= (systemd) or ulimit -n"));
        }
    }

    /// <summary>The listener could not be bound: the one line of a startup failure.</summary>
    public void CannotListen(string host, int port, string reason)
    {
        if (IsEnabled(LogLevel.Error))
        {
            Write(LogLevel.Error, string.Create(CultureInfo.InvariantCulture, $"cannot listen on {host}:{port}: {reason}"));
        }
    }

    public void ListenerNotTuned() =>
        Log(LogLevel.Warning, "Could not set TCP_NODELAY and keep-alive on the listening socket; pipelined answers may be delayed");

    public void SocketEventLoopScheduled(int threads, string? error)
    {
        if (IsEnabled(LogLevel.Debug))
        {
            Write(LogLevel.Debug, threads > 0
                ? string.Create(CultureInfo.InvariantCulture, $"Socket event loop: {threads} thread(s) set to SCHED_BATCH (woken without preempting calls)")
                : $"Socket event loop scheduling unchanged: {error}");
        }
    }

    // --- requests (RpcHost, RequestRouter, endpoints) ---

    public void AcceptFailed(Exception exception)
    {
        if (IsEnabled(LogLevel.Warning))
        {
            Write(LogLevel.Warning, $"Accept failed: {exception.Message}");
        }
    }

    /// <summary>A bug of ours while serving one HTTP request; the request was aborted, nothing else affected.</summary>
    public void RequestFailed(Exception exception)
    {
        if (IsEnabled(LogLevel.Error))
        {
            Write(LogLevel.Error, $"Request failed: {exception.GetType().Name}: {exception.Message}");
        }
    }

    public void OriginRefused(string client, string? origin)
    {
        if (IsEnabled(LogLevel.Warning))
        {
            Write(LogLevel.Warning, $"Refused {client}: Origin '{origin}' is not allowed");
        }
    }

    public void ConnectionLimitReached(string client, int maxConnections)
    {
        if (IsEnabled(LogLevel.Warning))
        {
            Write(LogLevel.Warning, string.Create(CultureInfo.InvariantCulture, $"Refused {client}: at --max-connections ({maxConnections})"));
        }
    }

    /// <summary>The upgrade could not take the connection over from HttpListener (logged once per process).</summary>
    public void UpgradeFellBack() =>
        Log(LogLevel.Warning, "WebSockets run over HttpListener's own stream (its connection could not be taken over): expected only on a different .NET runtime; slower, still correct");

    public void IdleConnectionClosing(string endpoint, TimeSpan idleTimeout)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, string.Create(CultureInfo.InvariantCulture, $"Closing idle connection {endpoint} (no message for {idleTimeout.TotalSeconds:0.###} s)"));
        }
    }

    public void MemoryReturned(long committedBefore, long committedAfter, TimeSpan pause)
    {
        if (IsEnabled(LogLevel.Debug))
        {
            Write(LogLevel.Debug, string.Create(CultureInfo.InvariantCulture,
                $"Memory returned after a burst: GC heap committed {committedBefore / 1048576.0:0.0} -> {committedAfter / 1048576.0:0.0} MiB (pause {pause.TotalMilliseconds:0.0} ms)"));
        }
    }

    // --- signals and shutdown (ShutdownCoordinator) ---

    public void SignalReceived(PosixSignal signal)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, $"Received {signal}, shutting down gracefully (a second signal exits at once)");
        }
    }

    public void SignalRepeated(PosixSignal signal)
    {
        if (IsEnabled(LogLevel.Warning))
        {
            Write(LogLevel.Warning, $"Received {signal} again, exiting at once");
        }
    }

    public void ShutdownStarted(int callsInFlight, int connections, TimeSpan timeout)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                $"Shutting down: waiting for {callsInFlight} call(s) in flight on {connections} connection(s) (up to {timeout.TotalSeconds:0.###} s)"));
        }
    }

    public void ShutdownTimeoutReached(int callsRunning)
    {
        if (IsEnabled(LogLevel.Warning))
        {
            Write(LogLevel.Warning, string.Create(CultureInfo.InvariantCulture,
                $"Shutdown timeout reached with {callsRunning} call(s) still running; cancelling them"));
        }
    }

    public void CallsAbandoned(int calls)
    {
        if (IsEnabled(LogLevel.Warning))
        {
            Write(LogLevel.Warning, string.Create(CultureInfo.InvariantCulture,
                $"{calls} call(s) did not end when cancelled; their clients get no answer"));
        }
    }

    public void ClientsClosedForShutdown(int connections)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, string.Create(CultureInfo.InvariantCulture, $"Closed {connections} client connection(s) with 1001 (server shutting down)"));
        }
    }

    public void Stopped() => Log(LogLevel.Info, "Server stopped");
}
