using System.Runtime.InteropServices;
using System.Text;
using CameraRpc.Protocol;
using CameraRpc.Server.Configuration;
using CameraRpc.Server.Endpoints;
using CameraRpc.Server.Hosting;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Metrics;
using CameraRpc.Server.Security;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Server;

/// <summary>
/// The shutdown's order and its signals, in process and without a listener or a clock: with nothing
/// running, every step happens at once. (The drain with real calls and clients: EndToEnd/ShutdownTests.)
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class ShutdownCoordinatorTests
{
    [Test]
    public void the_first_signal_asks_for_a_graceful_stop_and_the_second_for_an_exit_at_once()
    {
        (ShutdownCoordinator shutdown, _, _) = Create(ServerLog.Disabled, static () => Task.CompletedTask);

        shutdown.OnSignal(PosixSignal.SIGTERM).Should().BeFalse("the first signal starts a graceful shutdown");
        shutdown.StopRequested.IsCompleted.Should().BeTrue("whoever waits for a stop request is woken");
        shutdown.IsStopping.Should().BeFalse("the shutdown itself starts when StopAsync is called, not in the signal handler");
        shutdown.OnSignal(PosixSignal.SIGINT).Should().BeTrue("a second signal means the operator will not wait");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task with_nothing_running_it_stops_taking_work_closes_then_stops_listening_and_logs_each_step(CancellationToken cancellationToken)
    {
        var console = new MemoryStream();
        var sink = new LogSink(console, file: null);
        var steps = new List<string>();
        RpcDispatcher? dispatcher = null;
        ShutdownCoordinator? shutdown = null;
        (shutdown, dispatcher, _) = Create(new ServerLog(sink, LogLevel.Info), () =>
        {
            steps.Add($"stop listening (dispatcher shutting down: {dispatcher!.IsShuttingDown}, stopping: {shutdown!.IsStopping})");
            return Task.CompletedTask;
        });

        await shutdown.StopAsync().WaitAsync(cancellationToken);
        await shutdown.StopAsync().WaitAsync(cancellationToken);
        await sink.CompleteAsync().WaitAsync(cancellationToken);

        steps.Should().Equal(["stop listening (dispatcher shutting down: True, stopping: True)"],
            "new calls are refused before anything else, and the listener stops last, once (StopAsync is idempotent)");
        string[] messages = Encoding.UTF8.GetString(console.ToArray())
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(static line => line[(line.IndexOf(" - INFO - ", StringComparison.Ordinal) + 10)..])
            .ToArray();
        messages.Should().Equal(
            [
                "Shutting down: waiting for 0 call(s) in flight on 0 connection(s) (up to 10 s)",
                "Closed 0 client connection(s) with 1001 (server shutting down)",
                "Server stopped",
            ],
            "the log tells the shutdown's steps in order; nothing ran out of time, so there is no warning");
    }

    private static (ShutdownCoordinator Shutdown, RpcDispatcher Dispatcher, ConnectionRegistry Connections) Create(ServerLog log, Func<Task> stopListening)
    {
        ServerOptions options = ServerOptions.Default;
        var dispatcher = new RpcDispatcher(BuiltInRpcMethods.Table);
        var connections = new ConnectionRegistry(options.MaxConnections);
        AccessControl.TryCreate(options, new RateLimitCounters(), out AccessControl? access, out _).Should().BeTrue();
        var httpRpc = new HttpRpcEndpoint(
            dispatcher, connections, new RequestAuthorizer(access!, []), log, new ServerMetrics(), options.MaxMessageBytes, access!);
        return (new ShutdownCoordinator(options, dispatcher, connections, httpRpc, log, stopListening), dispatcher, connections);
    }
}
