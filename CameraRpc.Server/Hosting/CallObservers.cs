using CameraRpc.Protocol;

namespace CameraRpc.Server.Hosting;

/// <summary>Tells two <see cref="IRpcCallObserver"/>s about every call (the dispatcher takes one).</summary>
/// <remarks>Allocates nothing per call; as thread-safe as the two observers.</remarks>
internal sealed class CallObservers(IRpcCallObserver first, IRpcCallObserver second) : IRpcCallObserver
{
    /// <inheritdoc />
    public void OnCallCompleted(RpcMethod? method, int errorCode, long startTimestamp)
    {
        first.OnCallCompleted(method, errorCode, startTimestamp);
        second.OnCallCompleted(method, errorCode, startTimestamp);
    }

    /// <inheritdoc />
    public void OnHandlerFailed(RpcMethod method, Exception exception)
    {
        first.OnHandlerFailed(method, exception);
        second.OnHandlerFailed(method, exception);
    }
}
