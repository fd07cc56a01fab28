using System.Text;
using CameraRpc.Protocol;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Protocol;

/// <summary><c>$/cancelRequest</c> in the engine (CONTRACT section 6): by id, by value, a notification only, and the held-message path.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class RpcCancelRequestTests
{
    private static (InMemoryConnection Connection, TaskCompletionSource Gate) Gated()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        RpcMethod stubborn = new("t.stubborn", async invocation =>
        {
            await gate.Task; // ignores its token: finishes anyway
            invocation.Result.WriteStringValue("finished");
            return RpcInvokeResult.Success;
        }, """{"name":"t.stubborn"}""");
        return (new InMemoryConnection(HandMadeMethods.With(HandMadeMethods.Gated("t.wait", gate.Task), stubborn)), gate);
    }

    private static async Task<string?> Answer(InMemoryConnection connection, ValueTask<bool> pending, RpcResponseBuffer output)
    {
        bool answered = await pending;
        string? text = answered ? Encoding.UTF8.GetString(output.WrittenSpan) : null;
        RpcResponseBuffer.Return(output);
        return text;
    }

    private static (ValueTask<bool> Pending, RpcResponseBuffer Output) Start(InMemoryConnection connection, string message)
    {
        RpcResponseBuffer output = RpcResponseBuffer.Rent();
        return (connection.Dispatcher.DispatchAsync(Encoding.UTF8.GetBytes(message), output, connection.Context), output);
    }

    [Test, CancelAfter(10_000)]
    public async Task a_running_call_cancelled_by_its_id_is_answered_request_cancelled(CancellationToken cancellationToken)
    {
        (InMemoryConnection connection, _) = Gated();
        (ValueTask<bool> pending, RpcResponseBuffer output) = Start(connection, """{"jsonrpc":"2.0","method":"t.wait","id":"job-1"}""");

        await connection.SendAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"job-1"}}""", cancellationToken);

        (await Answer(connection, pending, output)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":"job-1"}""");
        connection.Drain().Should().BeEmpty("the cancel itself is a notification: never answered");
    }

    [Test, CancelAfter(10_000)]
    public async Task ids_are_compared_by_value_so_an_escaped_string_matches(CancellationToken cancellationToken)
    {
        (InMemoryConnection connection, _) = Gated();
        (ValueTask<bool> pending, RpcResponseBuffer output) = Start(connection, """{"jsonrpc":"2.0","method":"t.wait","id":"ab"}""");

        await connection.SendAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":["a\u0062"]}""", cancellationToken);

        (await Answer(connection, pending, output)).Should().Contain("-32800");
    }

    [Test, CancelAfter(10_000)]
    public async Task a_call_that_finishes_anyway_is_answered_normally(CancellationToken cancellationToken)
    {
        (InMemoryConnection connection, TaskCompletionSource gate) = Gated();
        (ValueTask<bool> pending, RpcResponseBuffer output) = Start(connection, """{"jsonrpc":"2.0","method":"t.stubborn","id":3}""");

        await connection.SendAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":3}}""", cancellationToken);
        gate.SetResult();

        (await Answer(connection, pending, output)).Should().Be("""{"jsonrpc":"2.0","result":"finished","id":3}""");
    }

    [Test, CancelAfter(10_000)]
    public async Task an_unknown_id_is_ignored_and_other_calls_run_on(CancellationToken cancellationToken)
    {
        (InMemoryConnection connection, TaskCompletionSource gate) = Gated();
        (ValueTask<bool> pending, RpcResponseBuffer output) = Start(connection, """{"jsonrpc":"2.0","method":"t.wait","id":1}""");

        await connection.SendAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":2}}""", cancellationToken);
        await connection.SendAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"1"}}""", cancellationToken);
        connection.Drain().Should().BeEmpty("an unknown id is ignored, silently (\"1\" is not 1)");
        gate.SetResult();

        (await Answer(connection, pending, output)).Should().Be("""{"jsonrpc":"2.0","result":"done","id":1}""");
    }

    [Test]
    public async Task a_cancel_sent_with_an_id_is_an_invalid_request()
    {
        (InMemoryConnection connection, _) = Gated();

        (await connection.CallAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1},"id":9}""")).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":9}""");
    }

    [Test]
    public async Task a_cancelled_call_leaves_the_next_call_with_the_same_id_uncancelled()
    {
        (InMemoryConnection connection, TaskCompletionSource gate) = Gated();
        (ValueTask<bool> first, RpcResponseBuffer firstOutput) = Start(connection, """{"jsonrpc":"2.0","method":"t.wait","id":5}""");
        await connection.SendAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":5}}""");
        (await Answer(connection, first, firstOutput)).Should().Contain("-32800");

        (ValueTask<bool> second, RpcResponseBuffer secondOutput) = Start(connection, """{"jsonrpc":"2.0","method":"t.wait","id":5}""");
        gate.SetResult();
        (await Answer(connection, second, secondOutput)).Should().Be("""{"jsonrpc":"2.0","result":"done","id":5}""", "a pooled token is reset before it is reused");
    }

    private static int ApplyCancels(InMemoryConnection connection, byte[] message) =>
        connection.Dispatcher.ApplyCancels(message, connection.Context);

    [Test]
    public void at_the_limit_a_message_gives_up_its_cancels_at_once_and_a_batch_keeps_only_its_other_calls()
    {
        (InMemoryConnection connection, _) = Gated();

        ApplyCancels(connection, Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"w"}}""")).Should().Be(0, "a cancel is applied and nothing is left to run");
        ApplyCancels(connection, Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"$\/cancelRequest","params":{"id":"w"}}""")).Should().Be(0, "an escaped slash spells the same method");
        byte[] ping = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"ping","id":1}""");
        ApplyCancels(connection, ping).Should().Be(ping.Length, "not a cancel: it waits for a slot whole");
        byte[] withId = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"w"},"id":2}""");
        ApplyCancels(connection, withId).Should().Be(withId.Length, "a cancel with an id of its own is dispatched, and answered -32600");
        ApplyCancels(connection, Encoding.UTF8.GetBytes("""[{"jsonrpc":"2.0","method":"$/cancelRequest","params":[1]}, {"jsonrpc":"2.0","method":"$/cancelRequest","params":[2]}]""")).Should().Be(0, "a batch of cancels only");

        byte[] mixed = Encoding.UTF8.GetBytes("""[{"jsonrpc":"2.0","method":"$/cancelRequest","params":[1]}, {"jsonrpc":"2.0","method":"ping","id":3} ,{"jsonrpc":"2.0","method":"$/cancelRequest","params":[2]},{"jsonrpc":"2.0","method":"ping"}]""");
        int left = ApplyCancels(connection, mixed);
        Encoding.UTF8.GetString(mixed, 0, left).Should().Be(
            """[{"jsonrpc":"2.0","method":"ping","id":3},{"jsonrpc":"2.0","method":"ping"}]""", "the applied cancels are taken out so that they do not run twice");

        byte[] tooMany = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Repeat("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":[1]}""", connection.Dispatcher.Options.MaxBatch + 1)) + "]");
        ApplyCancels(connection, tooMany).Should().Be(tooMany.Length, "a batch over the limit runs nothing, its cancels included: it is answered -32600 whole");
    }

    [Test]
    public async Task a_held_request_cancelled_while_it_waits_says_so_and_is_answered_without_running()
    {
        int ran = 0;
        var connection = new InMemoryConnection(HandMadeMethods.With(HandMadeMethods.Sync("t.count", () => ran++)));
        byte[] held = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"t.count","id":"w"}""");
        var waiting = new RpcWaitingCalls();

        connection.Dispatcher.RegisterWaiting(held, connection.Context, waiting, CancellationToken.None);
        waiting.IsCancelledRequest.Should().BeFalse();
        ApplyCancels(connection, Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"x"}}"""));
        waiting.IsCancelledRequest.Should().BeFalse("another id");
        ApplyCancels(connection, Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"w"}}"""));
        waiting.IsCancelledRequest.Should().BeTrue();

        RpcResponseBuffer output = RpcResponseBuffer.Rent();
        (await connection.Dispatcher.DispatchAsync(held, output, connection.Context, waiting, CancellationToken.None)).Should().BeTrue();
        waiting.Release();
        Encoding.UTF8.GetString(output.WrittenSpan).Should().Be("""{"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":"w"}""");
        RpcResponseBuffer.Return(output);
        ran.Should().Be(0, "a call cancelled while it waited for a slot never runs");

        (await connection.CallAsync("""{"jsonrpc":"2.0","method":"t.count","id":"w"}""")).Should().Contain("\"result\":\"ok\"", "the id is free again");
    }

    [Test]
    public async Task a_call_of_a_waiting_batch_cancelled_by_its_id_is_answered_in_the_array_and_the_others_run()
    {
        int ran = 0;
        var connection = new InMemoryConnection(HandMadeMethods.With(HandMadeMethods.Sync("t.count", () => ran++)));
        byte[] batch = Encoding.UTF8.GetBytes("""[{"jsonrpc":"2.0","method":"t.count","id":1},{"jsonrpc":"2.0","method":"t.count","id":2},{"jsonrpc":"2.0","method":"t.count"},{"jsonrpc":"2.0","method":"t.count","id":3}]""");
        var waiting = new RpcWaitingCalls();

        connection.Dispatcher.RegisterWaiting(batch, connection.Context, waiting, CancellationToken.None);
        ApplyCancels(connection, Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":[2]}"""));
        waiting.IsCancelledRequest.Should().BeFalse("a batch waits for its slot whole: its answer is one array");

        RpcResponseBuffer output = RpcResponseBuffer.Rent();
        (await connection.Dispatcher.DispatchAsync(batch, output, connection.Context, waiting, CancellationToken.None)).Should().BeTrue();
        waiting.Release();
        Encoding.UTF8.GetString(output.WrittenSpan).Should().Be(
            """[{"jsonrpc":"2.0","result":"ok","id":1},{"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":2},{"jsonrpc":"2.0","result":"ok","id":3}]""");
        RpcResponseBuffer.Return(output);
        ran.Should().Be(3, "the notification and the two calls not cancelled ran");
    }
}
