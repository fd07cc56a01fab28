using CameraRpc.Protocol;

namespace CameraRpc.Server.Logging;

/// <summary>
/// Writes a handler's failure to the log (<see cref="ServerLog.HandlerFailed"/>): the client got -32603
/// and nothing of the exception, the operator gets its type, message and stack.
/// </summary>
/// <remarks>The dispatcher's observer for failures; metrics are a separate observer (<see cref="Metrics.ServerMetrics"/>).</remarks>
internal sealed class HandlerFailureLog(ServerLog log) : IRpcCallObserver
{
    /// <inheritdoc />
    public void OnCallCompleted(RpcMethod? method, int errorCode, long startTimestamp)
    {
        // Every call is counted by the metrics; only failures are logged.
    }

    /// <inheritdoc />
    public void OnHandlerFailed(RpcMethod method, Exception exception) => log.HandlerFailed(method.Name, exception);
}
