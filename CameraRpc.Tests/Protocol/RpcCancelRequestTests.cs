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

    [Test]
    public void a_cancel_of_the_held_message_says_so_and_the_held_call_is_answered_without_running()
    {
        (InMemoryConnection connection, _) = Gated();
        byte[] held = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"t.wait","id":[1]}""".Replace("[1]", "\"w\"", StringComparison.Ordinal));

        connection.Dispatcher.ApplyIfCancel(Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"w"}}"""), connection.Context, held)
            .Should().Be(RpcCancelCheck.CancelsHeld);
        connection.Dispatcher.ApplyIfCancel(Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"x"}}"""), connection.Context, held)
            .Should().Be(RpcCancelCheck.Applied, "another id is looked for among the running calls");
        connection.Dispatcher.ApplyIfCancel(Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"ping","id":1}"""), connection.Context, held)
            .Should().Be(RpcCancelCheck.NotACancel);
        connection.Dispatcher.ApplyIfCancel(Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"w"},"id":2}"""), connection.Context, held)
            .Should().Be(RpcCancelCheck.NotACancel, "a cancel with an id of its own is dispatched, and answered -32600");

        RpcResponseBuffer output = RpcResponseBuffer.Rent();
        connection.Dispatcher.WriteCancelled(held, output).Should().BeTrue();
        Encoding.UTF8.GetString(output.WrittenSpan).Should().Be("""{"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":"w"}""");
        RpcResponseBuffer.Return(output);
    }
}
