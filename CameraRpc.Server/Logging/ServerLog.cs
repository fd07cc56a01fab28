using System.Globalization;
using System.Runtime.CompilerServices;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Logging;

/// <summary>
/// The server's log events, one method each, with the wording of contract §4. Also the
/// <see cref="IRpcLogger"/> that method handlers write through.
/// </summary>
/// <remarks>
/// Every method checks the level before building its message, so a disabled event costs one comparison.
/// Thread-safe; never blocks (lines go through <see cref="LogSink"/>).
/// </remarks>
internal sealed partial class ServerLog : IRpcLogger
{
    private readonly LogSink? _sink;
    private readonly LogLevel _minLevel;

    /// <param name="sink">Where lines go.</param>
    /// <param name="minLevel">The least severe level written (<c>--log-level</c>).</param>
    public ServerLog(LogSink sink, LogLevel minLevel)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _sink = sink;
        _minLevel = minLevel;
    }

    private ServerLog()
    {
        _minLevel = (LogLevel)int.MaxValue;
    }

    /// <summary>A log that writes nothing (tests, and commands other than <c>serve</c>).</summary>
    public static ServerLog Disabled { get; } = new();

    /// <summary>True when lines of <paramref name="level"/> are written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsEnabled(LogLevel level) => level >= _minLevel;

    public void Starting(string host, int port, string path)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, string.Create(CultureInfo.InvariantCulture, $"Starting WebSocket JSON-RPC server on {host}:{port}{path}"));
        }
    }

    public void Started(string url)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, $"Server started successfully at {url}");
        }
    }

    public void ClientConnected(string endpoint, int total)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, string.Create(CultureInfo.InvariantCulture, $"Client connected: {endpoint} (Total clients: {total})"));
        }
    }

    public void ClientDisconnected(string endpoint, int total)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, string.Create(CultureInfo.InvariantCulture, $"Client disconnected: {endpoint} (Total clients: {total})"));
        }
    }

    /// <summary>An inbound message; the body is cut at <see cref="LogLineFormatter.MaxBodyBytes"/>.</summary>
    public void Received(string endpoint, ReadOnlySpan<byte> utf8Body)
    {
        if (IsEnabled(LogLevel.Info) && _sink?.DropIfFull() == false)
        {
            Write(LogLevel.Info, LogLineFormatter.ComposeBodyMessage("Received from ", endpoint, ": ", utf8Body));
        }
    }

    /// <summary>An outbound message; the body is cut at <see cref="LogLineFormatter.MaxBodyBytes"/>.</summary>
    public void Sending(string endpoint, ReadOnlySpan<byte> utf8Body)
    {
        if (IsEnabled(LogLevel.Info) && _sink?.DropIfFull() == false)
        {
            Write(LogLevel.Info, LogLineFormatter.ComposeBodyMessage("Sending to ", endpoint, ": ", utf8Body));
        }
    }

    /// <summary>Why a connection ended (close code and reason), at debug level.</summary>
    public void ConnectionClosed(string endpoint, int code, string? reason)
    {
        if (IsEnabled(LogLevel.Debug))
        {
            Write(LogLevel.Debug, string.IsNullOrEmpty(reason)
                ? string.Create(CultureInfo.InvariantCulture, $"Connection closed: {endpoint} (code {code})")
                : string.Create(CultureInfo.InvariantCulture, $"Connection closed: {endpoint} (code {code}: {reason})"));
        }
    }

    /// <summary>A handler threw; the client got -32603, the log gets the exception's type, message and stack.</summary>
    public void HandlerFailed(string method, Exception exception)
    {
        if (IsEnabled(LogLevel.Error))
        {
            Write(LogLevel.Error, $"Method '{method}' failed: {exception}");
        }
    }

    // Free-text lines: Transport/ still writes through these until its events are named
    // (ServerLog.Transport.cs); new code adds an event method instead.
    public void Debug(string message) => Log(LogLevel.Debug, message);

    public void Info(string message) => Log(LogLevel.Info, message);

    public void Warning(string message) => Log(LogLevel.Warning, message);

    public void Error(string message) => Log(LogLevel.Error, message);

    /// <summary>A line at <paramref name="level"/>, written when that level is enabled.</summary>
    public void Log(LogLevel level, string message)
    {
        if (IsEnabled(level))
        {
            Write(level, message);
        }
    }

    bool IRpcLogger.IsEnabled(RpcLogLevel level) => IsEnabled(Map(level));

    void IRpcLogger.Log(RpcLogLevel level, string message) => Log(Map(level), message);

    void IRpcLogger.Log(RpcLogLevel level, string message, Exception exception)
    {
        LogLevel mapped = Map(level);
        if (IsEnabled(mapped))
        {
            Write(mapped, exception is null ? message : $"{message}: {exception}");
        }
    }

    private static LogLevel Map(RpcLogLevel level) => level switch
    {
        RpcLogLevel.Debug => LogLevel.Debug,
        RpcLogLevel.Info => LogLevel.Info,
        RpcLogLevel.Warning => LogLevel.Warning,
        _ => LogLevel.Error,
    };

    private void Write(LogLevel level, string message) => _sink?.Enqueue(level, message);
}
