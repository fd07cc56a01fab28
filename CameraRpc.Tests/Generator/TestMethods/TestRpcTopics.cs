using System.Runtime.CompilerServices;
using CameraRpc.Protocol;

namespace CameraRpc.Tests.Generator.TestMethods;

/// <summary>
/// [RpcTopic] fixtures compiled by the real generator: a fed state topic with its current state as
/// event 1, a fed complex-typed topic, and per-subscriber streams that end, fail or run until cancelled.
/// </summary>
/// <remarks>Fed topics are process-wide: the fixtures that publish to them do not run in parallel.</remarks>
[RpcJsonContext(typeof(TestJsonContext))]
internal static class TestRpcTopics
{
    /// <summary>The state <see cref="State"/> hands a new subscriber as its event 1.</summary>
    public static string CurrentState { get; set; } = "idle";

    [RpcTopic("test.state", Overflow = RpcOverflow.Coalesce, Summary = "A state: the newest value, current state first.")]
    public static RpcTopic<string> State { get; } = new(() => CurrentState);

    [RpcTopic("test.settings", Capacity = 4, Overflow = RpcOverflow.DropOldest, Scope = "camera.read")]
    public static readonly RpcTopic<TestCameraSettings> Settings = new();

    /// <summary>Counts from <paramref name="start"/>, <paramref name="count"/> events, then completes.</summary>
    [RpcTopic("test.count", Capacity = 64, Overflow = RpcOverflow.Close)]
    public static async IAsyncEnumerable<int> Count(int count, int start = 1, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return start + i;
        }
    }

    /// <summary>One event, then the topic throws: the subscription ends with "failed".</summary>
    [RpcTopic("test.broken")]
    public static async IAsyncEnumerable<string> Broken()
    {
        await Task.Yield();
        yield return "first";
        throw new InvalidOperationException("camera unplugged (this text must not reach the client)");
    }

    /// <summary>Runs until its subscription ends; reports its cancellation through <see cref="EndlessCancelled"/>.</summary>
    [RpcTopic("test.endless")]
    public static async IAsyncEnumerable<long> Endless(string key, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        s_endless[key] = cancelled;
        using CancellationTokenRegistration registration = cancellationToken.Register(() => cancelled.TrySetResult());
        yield return 0;
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> s_endless = new();

    /// <summary>Completes when the <c>test.endless</c> stream subscribed with <paramref name="key"/> was cancelled.</summary>
    public static Task EndlessCancelled(string key) =>
        s_endless.TryGetValue(key, out TaskCompletionSource? cancelled) ? cancelled.Task : Task.FromException(new InvalidOperationException("not started: " + key));
}
