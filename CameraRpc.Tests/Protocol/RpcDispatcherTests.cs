using System.Text;
using CameraRpc.Protocol;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Protocol;

[Parallelizable(ParallelScope.All)]
public sealed class RpcDispatcherTests
{
    [Test]
    public async Task a_handler_exception_is_an_internal_error_with_nothing_of_its_text()
    {
        var observer = new RecordingObserver();
        var rpc = new InProcessRpc(
            HandMadeMethods.With(HandMadeMethods.Throwing("boom", new InvalidOperationException("secret path /etc/shadow"))),
            new RpcDispatcherOptions { Observer = observer });

        string? answer = await rpc.CallAsync("""{"jsonrpc":"2.0","method":"boom","id":1}""");

        answer.Should().Be("""{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}""",
            "the half-written result is discarded and the exception stays out of the answer");
        observer.Failures.Should().ContainSingle().Which.Message.Should().Contain("secret", "the log gets the exception");
    }

    [Test]
    public async Task a_call_ended_by_its_own_cancellation_is_not_reported_as_a_failure()
    {
        // The client went away: the server cancels the call's token, and the method ends by honouring it.
        // That is no fault of the method, so the log gets no error and stack for it.
        var observer = new RecordingObserver();
        var rpc = new InProcessRpc(
            HandMadeMethods.With(HandMadeMethods.Gated("camera.waitForEvent", new TaskCompletionSource().Task)),
            new RpcDispatcherOptions { Observer = observer });
        using var disconnected = new CancellationTokenSource();

        Task<string?> call = rpc.CallAsync("""{"jsonrpc":"2.0","method":"camera.waitForEvent","id":1}""", disconnected.Token);
        await disconnected.CancelAsync();

        (await call).Should().Be("""{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}""",
            "an answer is still written (nobody will read it)");
        observer.Failures.Should().BeEmpty("a cancelled call did not fail");
    }

    [Test]
    public async Task an_operation_cancelled_inside_a_method_for_its_own_reasons_is_still_a_failure()
    {
        var observer = new RecordingObserver();
        var rpc = new InProcessRpc(
            HandMadeMethods.With(HandMadeMethods.Throwing("camera.timeout", new OperationCanceledException("the camera did not answer in time"))),
            new RpcDispatcherOptions { Observer = observer });

        (await rpc.CallAsync("""{"jsonrpc":"2.0","method":"camera.timeout","id":1}""")).Should().Contain("-32603");
        observer.Failures.Should().ContainSingle("the call's token was not cancelled: the method's own timeout is a failure worth logging");
    }

    [Test]
    public async Task an_rpc_exception_reaches_the_client_exactly()
    {
        var rpc = new InProcessRpc(HandMadeMethods.With(
            HandMadeMethods.Throwing("camera.busy", new RpcException(1001, "Camera busy", HandMadeMethods.Json("""{"retryAfterMs":250}""")))));

        string? answer = await rpc.CallAsync("""{"jsonrpc":"2.0","method":"camera.busy","id":"x"}""");

        answer.Should().Be("""{"jsonrpc":"2.0","error":{"code":1001,"message":"Camera busy","data":{"retryAfterMs":250}},"id":"x"}""");
    }

    [Test]
    public async Task a_failing_notification_is_never_answered()
    {
        var rpc = new InProcessRpc(HandMadeMethods.With(HandMadeMethods.Throwing("boom", new InvalidOperationException())));

        (await rpc.CallAsync("""{"jsonrpc":"2.0","method":"boom"}""")).Should().BeNull("a notification is never answered, not even with an error");
        (await rpc.CallAsync("""{"jsonrpc":"2.0","method":"boom","params":[]}""")).Should().BeNull();
    }

    [Test]
    public async Task a_notification_still_runs_its_method()
    {
        int runs = 0;
        var rpc = new InProcessRpc(HandMadeMethods.With(HandMadeMethods.Sync("count", () => Interlocked.Increment(ref runs))));

        (await rpc.CallAsync("""{"jsonrpc":"2.0","method":"count"}""")).Should().BeNull();

        runs.Should().Be(1);
    }

    [TestCase(64, false)]
    [TestCase(65, true)]
    public async Task nesting_deeper_than_64_is_a_parse_error(int depth, bool refused)
    {
        // The request object itself is depth 1, so params adds depth - 1 levels.
        string nested = new string('[', depth - 1) + new string(']', depth - 1);
        var rpc = new InProcessRpc();

        string? answer = await rpc.CallAsync($$"""{"jsonrpc":"2.0","method":"echo","params":{{nested}},"id":1}""");

        if (refused)
        {
            answer.Should().Be("""{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}""");
        }
        else
        {
            answer.Should().StartWith("""{"jsonrpc":"2.0","result":""");
        }
    }

    [Test]
    public async Task invalid_utf8_is_a_parse_error()
    {
        byte[] message = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"echo","params":["X"],"id":1}""");
        message[Array.IndexOf(message, (byte)'X')] = 0xFF;
        var rpc = new InProcessRpc();

        (await rpc.CallAsync(message)).Should().Be("""{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}""");
    }

    [Test]
    public async Task calls_during_shutdown_get_minus_32000_and_do_not_run()
    {
        int runs = 0;
        var rpc = new InProcessRpc(HandMadeMethods.With(HandMadeMethods.Sync("count", () => Interlocked.Increment(ref runs))));
        rpc.Dispatcher.BeginShutdown();

        (await rpc.CallAsync("""{"jsonrpc":"2.0","method":"count","id":3}"""))
            .Should().Be("""{"jsonrpc":"2.0","error":{"code":-32000,"message":"Server is shutting down"},"id":3}""");
        (await rpc.CallAsync("""{"jsonrpc":"2.0","method":"count"}""")).Should().BeNull();
        runs.Should().Be(0);
    }

    [Test]
    public async Task empty_and_whitespace_messages_are_parse_errors()
    {
        var rpc = new InProcessRpc();
        (await rpc.CallAsync("")).Should().Contain("-32700");
        (await rpc.CallAsync("   \n")).Should().Contain("-32700");
    }

    private sealed class RecordingObserver : IRpcCallObserver
    {
        public List<Exception> Failures { get; } = [];

        public void OnCallCompleted(RpcMethod? method, int errorCode, long startTimestamp)
        {
        }

        public void OnHandlerFailed(RpcMethod method, Exception exception)
        {
            lock (Failures)
            {
                Failures.Add(exception);
            }
        }
    }
}
