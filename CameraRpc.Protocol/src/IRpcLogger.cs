namespace CameraRpc.Protocol;

/// <summary>Severity of a line a method writes through <see cref="RpcContext.Logger"/>.</summary>
public enum RpcLogLevel
{
    Debug,
    Info,
    Warning,
    Error,
}

/// <summary>
/// Where method handlers write log lines. The server implements it with its non-blocking log
/// queue; the engine itself never formats or writes a line.
/// </summary>
/// <remarks>Implementations must be thread-safe and must never block the caller.</remarks>
public interface IRpcLogger
{
    /// <summary>True when lines of <paramref name="level"/> are written; check it before building a message.</summary>
    bool IsEnabled(RpcLogLevel level);

    /// <summary>Queues one line.</summary>
    void Log(RpcLogLevel level, string message);

    /// <summary>Queues one line about a failure, with the exception's details (for the log only).</summary>
    void Log(RpcLogLevel level, string message, Exception exception);
}

/// <summary>A logger that writes nothing.</summary>
public sealed class NullRpcLogger : IRpcLogger
{
    public static NullRpcLogger Instance { get; } = new();

    private NullRpcLogger()
    {
    }

    public bool IsEnabled(RpcLogLevel level) => false;

    public void Log(RpcLogLevel level, string message)
    {
    }

    public void Log(RpcLogLevel level, string message, Exception exception)
    {
    }
}
