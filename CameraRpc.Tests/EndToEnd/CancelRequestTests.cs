using CameraRpc.Tests.EndToEnd.Methods;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// <c>$/cancelRequest</c> over real sockets (CONTRACT section 6): a running call, a call still waiting
/// for a slot at <c>--max-concurrency</c>, an unknown id, a cancel sent with an id.
/// </summary>
[NonParallelizable]
public sealed class CancelRequestTests
{
    private static string Wait(string key, object id) =>
        $$"""{"jsonrpc":"2.0","method":"test.wait","params":["{{key}}"],"id":{{(id is string s ? "\"" + s + "\"" : id)}}}""";

    private static string Cancel(object id) =>
        "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":" + (id is string s ? "\"" + s + "\"" : id) + "}}";

    [Test, CancelAfter(30_000)]
    public async Task a_running_call_is_cancelled_and_answered_request_cancelled(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string key, RpcCallGate gate) = RpcCallGate.Create();

        await client.SendAsync(Wait(key, "job"), cancellationToken);
        await gate.Started.WaitAsync(cancellationToken);
        await client.SendAsync(Cancel("job"), cancellationToken);

        (await BackPressureTests.NextAsync(client, cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":"job"}""");
        await gate.Cancelled.WaitAsync(cancellationToken);
    }

    [Test, CancelAfter(30_000)]
    public async Task at_the_concurrency_limit_a_cancel_still_takes_effect_and_a_waiting_call_never_runs(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxConcurrency = 1 });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string running, RpcCallGate runningGate) = RpcCallGate.Create();
        (string waiting, RpcCallGate waitingGate) = RpcCallGate.Create();

        await client.SendAsync(Wait(running, 1), cancellationToken);
        await runningGate.Started.WaitAsync(cancellationToken); // the one slot is taken
        await client.SendAsync(Wait(waiting, 2), cancellationToken); // waits for the slot
        await client.SendAsync(Cancel(2), cancellationToken);

        (await BackPressureTests.NextAsync(client, cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":2}""", "answered without running, while the slot is still taken");
        waitingGate.Started.IsCompleted.Should().BeFalse("the cancelled call never ran");

        await client.SendAsync(Cancel(1), cancellationToken); // the running call, still at the limit
        (await BackPressureTests.NextAsync(client, cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":1}""");
        (await client.CallAsync(RpcMessages.Ping(3), cancellationToken)).Should().Be(RpcMessages.Pong(3), "the slot is free again");
        waitingGate.Started.IsCompleted.Should().BeFalse();
    }

    [Test, CancelAfter(30_000)]
    public async Task at_the_limit_a_cancel_of_the_running_call_lets_the_waiting_one_run(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxConcurrency = 1 });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string running, RpcCallGate runningGate) = RpcCallGate.Create();
        (string waiting, RpcCallGate waitingGate) = RpcCallGate.Create();

        await client.SendAsync(Wait(running, 1), cancellationToken);
        await runningGate.Started.WaitAsync(cancellationToken);
        await client.SendAsync(Wait(waiting, 2), cancellationToken);
        await client.SendAsync(Cancel(1), cancellationToken);

        (await BackPressureTests.NextAsync(client, cancellationToken)).Should().Contain("\"code\":-32800").And.EndWith("\"id\":1}");
        await waitingGate.Started.WaitAsync(cancellationToken); // it got the slot
        waitingGate.Release("ran");
        (await BackPressureTests.NextAsync(client, cancellationToken)).Should().Be(RpcMessages.Result("\"ran\"", 2));
    }

    [Test, CancelAfter(30_000)]
    public async Task an_unknown_id_is_ignored_and_a_cancel_with_an_id_is_an_invalid_request(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        await client.SendAsync(Cancel(99), cancellationToken);
        (await client.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "nothing answers an unknown id");

        (await client.CallAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1},"id":5}""", cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":5}""");
    }
}
