namespace CameraRpc.Protocol;

/// <summary>
/// Hook for metrics and logs: told about every call the dispatcher answers or runs.
/// </summary>
/// <remarks>
/// Called on the dispatching thread, possibly from many threads at once; implementations must be
/// thread-safe, must not block and should not allocate.
/// </remarks>
public interface IRpcCallObserver
{
    /// <summary>
    /// One call finished. <paramref name="method"/> is null when no method ran (invalid request,
    /// unknown method, shutdown). <paramref name="errorCode"/> is 0 for success, otherwise the code of
    /// the error answer (also for notifications, whose answer is not sent).
    /// <paramref name="startTimestamp"/> is a <see cref="System.Diagnostics.Stopwatch"/> timestamp.
    /// </summary>
    void OnCallCompleted(RpcMethod? method, int errorCode, long startTimestamp);

    /// <summary>A handler threw something other than <see cref="RpcException"/>; the client got -32603.</summary>
    void OnHandlerFailed(RpcMethod method, Exception exception);
}
