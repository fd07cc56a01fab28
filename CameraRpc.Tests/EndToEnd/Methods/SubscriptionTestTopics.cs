using CameraRpc.Protocol;

namespace CameraRpc.Tests.EndToEnd.Methods;

/// <summary>
/// Fed topics for the end-to-end subscription tests, one per overflow policy, served by the in-process
/// server (<see cref="TestSupport.InProcessServer"/> combines this project's generated table with the
/// built-ins). Their values are strings so a test can make events as large as it likes. Fed topics are
/// process-wide: the fixtures that use them do not run in parallel.
/// </summary>
internal static class SubscriptionTestTopics
{
    [RpcTopic("e2e.coalesce", Overflow = RpcOverflow.Coalesce)]
    public static RpcTopic<string> Coalesce { get; } = new();

    [RpcTopic("e2e.dropOldest", Capacity = 8, Overflow = RpcOverflow.DropOldest)]
    public static RpcTopic<string> DropOldest { get; } = new();

    [RpcTopic("e2e.close", Capacity = 8, Overflow = RpcOverflow.Close)]
    public static RpcTopic<string> Close { get; } = new();

    [RpcTopic("e2e.numbers", Capacity = 1024, Overflow = RpcOverflow.DropOldest)]
    public static RpcTopic<long> Numbers { get; } = new();

    /// <summary>A per-subscriber stream that runs until its subscription ends (unsubscribe, disconnect, shutdown).</summary>
    [RpcTopic("e2e.forever")]
    public static async IAsyncEnumerable<int> Forever([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return 1;
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        finally
        {
            Interlocked.Increment(ref s_foreverCancelled);
        }
    }

    private static int s_foreverCancelled;

    /// <summary>How many <c>e2e.forever</c> streams have stopped so far.</summary>
    public static int ForeverStopped => Volatile.Read(ref s_foreverCancelled);
}
