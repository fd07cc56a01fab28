using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using CameraRpc.Tests.EndToEnd.Methods;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// Graceful shutdown (CONTRACT section 5). The drain of calls in flight is tested in process, with a
/// <c>test.wait</c> call the test releases; signals, exit codes and the log with the real executable.
/// </summary>
[NonParallelizable]
public sealed class ShutdownTests
{
    private const string ShuttingDown = """{"jsonrpc":"2.0","error":{"code":-32000,"message":"Server is shutting down"},"id":2}""";

    [Test, CancelAfter(30_000)]
    public async Task stop_lets_a_call_in_flight_finish_while_new_calls_get_32000_and_healthz_is_503(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(20) });
        await using RpcTestClient busy = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient other = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string key, RpcCallGate gate) = RpcCallGate.Create();
        await busy.SendAsync(BackPressureTests.WaitCall(key, 1), cancellationToken);
        await gate.Started.WaitAsync(cancellationToken);

        Task stopping = server.Server.StopAsync();

        HttpAnswer health = await HttpExchange.GetAsync(server.HttpUri("/healthz"), cancellationToken);
        health.Status.Should().Be(503, "/healthz turns 503 as soon as shutdown begins, so load balancers stop sending");
        health.Body.Should().Be("""{"status":"stopping"}""", "the contract's body for a stopping server");
        (await other.WaitForCloseAsync(cancellationToken)).Should().Be(
            WebSocketCloseStatus.EndpointUnavailable, "an idle connection has nothing to finish: it gets its 1001 at once");
        (await busy.CallAsync(RpcMessages.Ping(2), cancellationToken)).Should().Be(ShuttingDown, "a call that arrives during shutdown gets -32000");
        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(2), cancellationToken)).Body
            .Should().Be(ShuttingDown, "over HTTP too");
        stopping.IsCompleted.Should().BeFalse("shutdown waits for the call in flight");

        gate.Release("finished");
        (await BackPressureTests.NextAsync(busy, cancellationToken))
            .Should().Be(RpcMessages.Result("\"finished\"", 1), "a call in flight when shutdown began still gets its result");
        gate.Cancelled.IsCompleted.Should().BeFalse("the call finished on its own, well within --shutdown-timeout");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_call_still_running_at_the_shutdown_timeout_is_cancelled_and_answered_32000_before_the_1001(CancellationToken cancellationToken)
    {
        // The grace after the cancellation is longer than the test: the 1001 must wait for the -32000, however slow the machine.
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromMilliseconds(200), ShutdownCancelGrace = TimeSpan.FromMinutes(1) });
        await using RpcTestClient busy = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string key, RpcCallGate gate) = RpcCallGate.Create();
        await busy.SendAsync($$"""{"jsonrpc":"2.0","method":"test.waitThenCleanUp","params":["{{key}}"],"id":1}""", cancellationToken);
        await gate.Started.WaitAsync(cancellationToken);

        Task stopping = server.Server.StopAsync(); // the gate is never released: the call outlives the timeout

        await gate.Cancelled.WaitAsync(cancellationToken); // reaching this line is the assertion: the call's token fired
        (await BackPressureTests.NextAsync(busy, cancellationToken)).Should().Be(
            ShuttingDown.Replace("\"id\":2", "\"id\":1", StringComparison.Ordinal), "the cancelled call's client learns what became of it");
        (await busy.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.EndpointUnavailable, "and then gets its 1001");
        await stopping.WaitAsync(cancellationToken);
    }

    [Test, CancelAfter(30_000)]
    public async Task an_http_call_still_running_at_the_shutdown_timeout_is_cancelled_and_answered_32000(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromMilliseconds(200), ShutdownCancelGrace = TimeSpan.FromMinutes(1) });
        (string key, RpcCallGate gate) = RpcCallGate.Create();
        Task<HttpAnswer> post = HttpExchange.PostAsync(
            server.HttpUri(), $$"""{"jsonrpc":"2.0","method":"test.waitThenCleanUp","params":["{{key}}"],"id":1}""", cancellationToken);
        await gate.Started.WaitAsync(cancellationToken);

        Task stopping = server.Server.StopAsync(); // the gate is never released: the call outlives the timeout

        await gate.Cancelled.WaitAsync(cancellationToken); // reaching this line is the assertion: the call's token fired
        HttpAnswer answer = await post;
        answer.Status.Should().Be(200, "the POST is answered, not dropped");
        answer.Body.Should().Be(ShuttingDown.Replace("\"id\":2", "\"id\":1", StringComparison.Ordinal), "with -32000, as over WebSocket");
        await stopping.WaitAsync(cancellationToken);
    }

    [Test, CancelAfter(5_000)]
    public async Task stop_closes_every_client_with_1001_without_waiting_for_the_timeout_when_no_call_runs(CancellationToken cancellationToken)
    {
        // A timeout longer than CancelAfter: this test only passes if idle connections do not count as calls in flight.
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(6) });
        await using RpcTestClient one = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient two = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (await one.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "a call that ended before shutdown");

        Task stopping = server.Server.StopAsync();

        (await one.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.EndpointUnavailable, "every client gets 1001 at shutdown");
        (await two.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.EndpointUnavailable, "every client gets 1001 at shutdown");
        await stopping.WaitAsync(cancellationToken);
    }

    [Test, CancelAfter(30_000)]
    public async Task sigterm_with_idle_clients_does_not_wait_for_calls_in_flight(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--shutdown-timeout", "20");
        await using RpcTestClient one = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient two = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (await one.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "a call that ended before the signal");
        (await two.CallAsync(RpcMessages.Ping(2), cancellationToken)).Should().Be(RpcMessages.Pong(2), "a call that ended before the signal");

        server.Signal(ServerProcess.SIGTERM);
        string waiting = await server.WaitForLineAsync(line => line.Contains("Shutting down", StringComparison.Ordinal), cancellationToken);

        waiting.Should().Contain("waiting for 0 call(s) in flight", "both clients are idle: no call is running, so shutdown has nothing to wait for");
        (await one.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.EndpointUnavailable, "every client gets 1001");
        (await server.WaitForExitAsync(cancellationToken)).Should().Be(0, "a graceful shutdown exits 0");
        server.Lines.Should().NotContain(line => line.Contains("Shutdown timeout reached", StringComparison.Ordinal), "nothing was running, so nothing ran out of time");
    }

    [TestCase(ServerProcess.SIGTERM, TestName = "sigterm_closes_every_client_with_1001_logs_that_it_stopped_and_exits_0")]
    [TestCase(ServerProcess.SIGINT, TestName = "sigint_closes_every_client_with_1001_logs_that_it_stopped_and_exits_0")]
    [CancelAfter(30_000)]
    public async Task a_signal_stops_the_server_gracefully(int signal, CancellationToken cancellationToken)
    {
        // A short --shutdown-timeout keeps this test about signals, exit code and close frames; how long the drain
        // waits is the business of the test above.
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--shutdown-timeout", "1");
        await using RpcTestClient one = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient two = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (await one.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "the first client is served");
        (await two.CallAsync(RpcMessages.Ping(2), cancellationToken)).Should().Be(RpcMessages.Pong(2), "the second client is served");

        server.Signal(signal);

        (await one.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.EndpointUnavailable, "every client gets close 1001 (going away)");
        (await two.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.EndpointUnavailable, "every client gets close 1001 (going away)");
        (await server.WaitForExitAsync(cancellationToken)).Should().Be(0, "a graceful shutdown exits 0");
        server.Lines.Should().Contain(line => line.Contains("shutting down gracefully", StringComparison.Ordinal), "the log says the signal started a shutdown");
        server.Lines.Should().Contain(line => line.EndsWith(" - INFO - Server stopped", StringComparison.Ordinal), "the log says the server stopped");
    }

    [Test, CancelAfter(30_000)]
    public async Task sigterm_the_moment_the_server_reports_it_started_is_still_a_graceful_shutdown(CancellationToken cancellationToken)
    {
        // ServerProcess.StartAsync returns as soon as "Server started successfully" is read: what a
        // supervisor that stops a server right after starting it would do.
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);

        server.Signal(ServerProcess.SIGTERM);

        (await server.WaitForExitAsync(cancellationToken)).Should().Be(0, "the signal handlers are in place before the server says it started");
        server.Lines.Should().Contain(line => line.EndsWith(" - INFO - Server stopped", StringComparison.Ordinal), "the shutdown ran to its end");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_second_signal_exits_at_once_while_shutdown_waits_for_a_call(CancellationToken cancellationToken)
    {
        // A POST whose body has not fully arrived is a call in flight that the test controls: the server
        // waits for the rest of it, and the graceful shutdown waits (up to a minute here) for the server.
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--shutdown-timeout", "60");
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", server.Port, cancellationToken);
        NetworkStream stream = tcp.GetStream();
        string body = RpcMessages.Ping(1);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body[..5]}"), cancellationToken);
        await stream.FlushAsync(cancellationToken);
        // A second, complete request on another connection: once it is answered, the first one has surely been accepted too.
        (await HttpExchange.GetAsync(server.HttpUri("/healthz"), cancellationToken)).Status.Should().Be(200, "the server runs");

        server.Signal(ServerProcess.SIGTERM);
        string waiting = await server.WaitForLineAsync(line => line.Contains("Shutting down", StringComparison.Ordinal), cancellationToken);
        waiting.Should().NotContain("waiting for 0 call(s)", "the unfinished POST is a call in flight, so the first signal starts a drain that waits");
        server.Signal(ServerProcess.SIGTERM);

        await server.WaitForExitAsync(cancellationToken); // well before --shutdown-timeout 60: that is the assertion
        server.Lines.Should().Contain(line => line.Contains("again, exiting at once", StringComparison.Ordinal), "the log says why it did not finish the drain");
    }
}
