using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using CameraRpc.Protocol;

namespace CameraRpc.Tests.EndToEnd.Methods;

/// <summary>
/// A call the test controls: it reports when it has started, waits until the test releases it (or its
/// <see cref="CancellationToken"/> fires, which it reports too).
/// </summary>
/// <remarks>Gates are keyed by a name unique to each test, so tests running side by side never share one.</remarks>
public sealed class RpcCallGate
{
    private static readonly ConcurrentDictionary<string, RpcCallGate> s_gates = new(StringComparer.Ordinal);

    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RpcCallGate()
    {
    }

    /// <summary>Completes when a call waiting on this gate has started running on the server.</summary>
    public Task Started => _started.Task;

    /// <summary>Completes when the waiting call's <see cref="CancellationToken"/> was cancelled.</summary>
    public Task Cancelled => _cancelled.Task;

    /// <summary>A new gate under a unique key (use the key as the call's <c>key</c> parameter).</summary>
    public static (string Key, RpcCallGate Gate) Create()
    {
        string key = Guid.NewGuid().ToString("N");
        var gate = new RpcCallGate();
        s_gates[key] = gate;
        return (key, gate);
    }

    /// <summary>Lets the waiting call return <paramref name="result"/>.</summary>
    public void Release(string result = "released") => _released.TrySetResult(result);

    internal static RpcCallGate Find(string key) =>
        s_gates.TryGetValue(key, out RpcCallGate? gate) ? gate : throw new RpcException(-32010, "No such gate: " + key);

    internal async Task<string> WaitAsync(CancellationToken cancellationToken)
    {
        _started.TrySetResult();
        try
        {
            return await _released.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _cancelled.TrySetResult();
            throw;
        }
    }
}

/// <summary>
/// [RpcMethod] fixtures of the end-to-end tests, served by <c>InProcessServer</c>: a call that waits for
/// the test (back-pressure, shutdown drain, cancellation on disconnect) and a call that pushes a notification.
/// </summary>
internal static class EndToEndRpcMethods
{
    /// <summary>Waits until the test releases gate <paramref name="key"/>; answers what the test released it with.</summary>
    [RpcMethod("test.wait")]
    public static Task<string> WaitAsync(string key, CancellationToken cancellationToken) =>
        RpcCallGate.Find(key).WaitAsync(cancellationToken);

    /// <summary>
    /// Like <c>test.wait</c>, but a cancelled call first takes a moment to clean up (as a method releasing
    /// a camera would) before it ends, so its -32000 is written only after the cancellation returned.
    /// </summary>
    [RpcMethod("test.waitThenCleanUp")]
    public static async Task<string> WaitThenCleanUpAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await RpcCallGate.Find(key).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Pushes <c>test.event</c> with <c>{"n":N}</c> to the caller, then answers <c>"sent"</c>.</summary>
    [RpcMethod("test.notify")]
    public static async Task<string> NotifyAsync(int n, RpcContext context, CancellationToken cancellationToken)
    {
        using JsonDocument payload = JsonDocument.Parse("{\"n\":" + n.ToString(CultureInfo.InvariantCulture) + "}");
        await context.NotifyAsync("test.event", payload.RootElement, cancellationToken).ConfigureAwait(false);
        return "sent";
    }
}
