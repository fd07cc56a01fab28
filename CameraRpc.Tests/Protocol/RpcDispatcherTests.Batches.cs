using CameraRpc.Protocol;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Protocol;

[Parallelizable(ParallelScope.All)]
public sealed class RpcDispatcherBatchTests
{
    [TestCase(3, false)]
    [TestCase(4, true)]
    public async Task a_batch_over_the_limit_is_one_invalid_request_and_runs_nothing(int size, bool refused)
    {
        int runs = 0;
        var rpc = new InProcessRpc(
            HandMadeMethods.With(HandMadeMethods.Sync("count", () => Interlocked.Increment(ref runs))),
            new RpcDispatcherOptions { MaxBatch = 3 });
        string batch = "[" + string.Join(",", Enumerable.Range(1, size).Select(i => $$"""{"jsonrpc":"2.0","method":"count","id":{{i}}}""")) + "]";

        string? answer = await rpc.CallAsync(batch);

        if (refused)
        {
            answer.Should().Be("""{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":{"limit":"max-batch","max":3,"received":4}},"id":null}""");
            runs.Should().Be(0, "none of the calls of a refused batch runs");
        }
        else
        {
            answer.Should().StartWith("[").And.EndWith("]");
            runs.Should().Be(3);
        }
    }

    [Test, CancelAfter(10_000)]
    public async Task calls_of_a_batch_run_concurrently_and_answer_in_request_order(CancellationToken cancellationToken)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var rpc = new InProcessRpc(HandMadeMethods.With(
            HandMadeMethods.Gated("slow", gate.Task),
            HandMadeMethods.Sync("open", () => gate.TrySetResult())));

        // "slow" can only finish once "open", later in the same batch, has run: a sequential batch would hang.
        string? answer = await rpc.CallAsync(
            """[{"jsonrpc":"2.0","method":"slow","id":1},{"jsonrpc":"2.0","method":"open","id":2}]""", cancellationToken);

        answer.Should().Be("""[{"jsonrpc":"2.0","result":"done","id":1},{"jsonrpc":"2.0","result":"ok","id":2}]""");
    }

    [Test]
    public async Task a_batch_with_only_notifications_gets_nothing_at_all()
    {
        var rpc = new InProcessRpc();
        (await rpc.CallAsync("""[{"jsonrpc":"2.0","method":"ping"},{"jsonrpc":"2.0","method":"nope"}]""")).Should().BeNull();
    }
}
