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

    /// <summary>A server at <c>--max-concurrency 1</c> whose one slot call 1 (<c>test.wait</c>) holds, and its client.</summary>
    private sealed class AtTheLimit : IAsyncDisposable
    {
        public required InProcessServer Server { get; init; }

        public required RpcTestClient Client { get; init; }

        public required RpcCallGate Running { get; init; }

        public static async Task<AtTheLimit> StartAsync(CancellationToken cancellationToken)
        {
            InProcessServer server = InProcessServer.Start(o => o with { MaxConcurrency = 1 });
            RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
            (string running, RpcCallGate gate) = RpcCallGate.Create();
            await client.SendAsync(Wait(running, 1), cancellationToken);
            await gate.Started.WaitAsync(cancellationToken); // the one slot is taken
            return new AtTheLimit { Server = server, Client = client, Running = gate };
        }

        public Task<string> NextAsync(CancellationToken cancellationToken) => BackPressureTests.NextAsync(Client, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    private const string Cancelled2 = """{"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":2}""";

    [Test, CancelAfter(30_000)]
    public async Task at_the_limit_a_call_of_a_waiting_batch_cancelled_by_its_id_never_runs_and_the_batch_answers_every_call(CancellationToken cancellationToken)
    {
        await using AtTheLimit limit = await AtTheLimit.StartAsync(cancellationToken);
        (string waiting, RpcCallGate waitingGate) = RpcCallGate.Create();

        await limit.Client.SendAsync("[" + Wait(waiting, 2) + "," + RpcMessages.Ping(3) + "]", cancellationToken); // waits for the slot
        await limit.Client.SendAsync(Cancel(2), cancellationToken);
        await limit.Client.SendAsync(Cancel(1), cancellationToken); // read after the cancel of 2, so it has been applied when the slot frees

        (await limit.NextAsync(cancellationToken)).Should().Contain("-32800").And.EndWith("\"id\":1}");
        (await limit.NextAsync(cancellationToken)).Should().Be(
            "[" + Cancelled2 + "," + RpcMessages.Pong(3) + "]", "the cancelled call is answered in its batch's array, the other call ran");
        waitingGate.Started.IsCompleted.Should().BeFalse("the cancelled call never ran");
    }

    [Test, CancelAfter(30_000)]
    public async Task at_the_limit_a_cancel_inside_a_batch_takes_effect_at_once(CancellationToken cancellationToken)
    {
        await using AtTheLimit limit = await AtTheLimit.StartAsync(cancellationToken);

        await limit.Client.SendAsync("[" + Cancel(1) + "," + RpcMessages.Ping(2) + "]", cancellationToken);

        // Were the cancel held with its batch behind the running call, neither would ever come.
        (await limit.NextAsync(cancellationToken)).Should().Contain("-32800").And.EndWith("\"id\":1}");
        await limit.Running.Cancelled.WaitAsync(cancellationToken);
        (await limit.NextAsync(cancellationToken)).Should().Be("[" + RpcMessages.Pong(2) + "]", "the rest of the batch ran once the slot was free, its cancel not a second time");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_batch_read_behind_a_held_message_gives_up_its_cancels_at_once_and_then_waits_its_turn(CancellationToken cancellationToken)
    {
        await using AtTheLimit limit = await AtTheLimit.StartAsync(cancellationToken);
        (string held, RpcCallGate heldGate) = RpcCallGate.Create();

        await limit.Client.SendAsync(Wait(held, 2), cancellationToken); // held for the slot
        await limit.Client.SendAsync("[" + RpcMessages.Ping(3) + "," + Cancel(1) + "]", cancellationToken); // read behind it

        (await limit.NextAsync(cancellationToken)).Should().Contain("-32800").And.EndWith("\"id\":1}");
        await heldGate.Started.WaitAsync(cancellationToken); // the held call got the slot first
        heldGate.Release("ran");
        (await limit.NextAsync(cancellationToken)).Should().Be(RpcMessages.Result("\"ran\"", 2));
        (await limit.NextAsync(cancellationToken)).Should().Be("[" + RpcMessages.Pong(3) + "]", "then the batch, in the order the messages came");
    }

    [Test, CancelAfter(30_000)]
    public async Task at_the_limit_a_cancel_with_an_escaped_name_still_takes_effect_at_once(CancellationToken cancellationToken)
    {
        await using AtTheLimit limit = await AtTheLimit.StartAsync(cancellationToken);
        (string waiting, RpcCallGate waitingGate) = RpcCallGate.Create();

        await limit.Client.SendAsync(Wait(waiting, 2), cancellationToken);
        await limit.Client.SendAsync(Cancel(2).Replace("$/", "$\\/", StringComparison.Ordinal), cancellationToken);

        (await limit.NextAsync(cancellationToken)).Should().Be(Cancelled2, "\"$\\/cancelRequest\" is $/cancelRequest");
        waitingGate.Started.IsCompleted.Should().BeFalse();
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
