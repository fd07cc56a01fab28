using System.Text;
using CameraRpc.Protocol;
using CameraRpc.Server.Hosting;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Metrics;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Server;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class HandlerFailureLogTests
{
    [Test]
    [CancelAfter(10_000)]
    public async Task a_handler_failure_is_one_error_line_with_the_method_and_the_exception(CancellationToken cancellationToken)
    {
        var console = new MemoryStream();
        var sink = new LogSink(console, file: null);
        IRpcCallObserver observer = new HandlerFailureLog(new ServerLog(sink, LogLevel.Info));

        observer.OnCallCompleted(ServerMetricsTests.Method("camera.snap"), RpcErrorCode.InternalError, 0);
        observer.OnHandlerFailed(ServerMetricsTests.Method("camera.snap"), new InvalidOperationException("lens cap on"));
        await sink.CompleteAsync().WaitAsync(cancellationToken);

        string[] lines = Encoding.UTF8.GetString(console.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle("a completed call is not logged here, only the failure");
        lines[0].Should().Contain(" - ERROR - Method 'camera.snap' failed: System.InvalidOperationException: lens cap on",
            "the operator gets the method, the exception's type and message (the client got only -32603)");
    }

    [Test]
    public void both_observers_hear_of_every_call_and_every_failure()
    {
        var metrics = new ServerMetrics();
        var failures = new RecordingObserver();
        IRpcCallObserver observers = new CallObservers(metrics, failures);
        RpcMethod method = ServerMetricsTests.Method("boom");
        var exception = new InvalidOperationException();

        observers.OnCallCompleted(method, RpcErrorCode.InternalError, System.Diagnostics.Stopwatch.GetTimestamp());
        observers.OnHandlerFailed(method, exception);

        metrics.GetCallCounts().Should().Equal([("boom", 0L, 1L)], "the metrics observer counted the failed call");
        failures.Completed.Should().Be(1, "the second observer heard of the call too");
        failures.Failed.Should().BeSameAs(exception, "and of the failure");
    }

    private sealed class RecordingObserver : IRpcCallObserver
    {
        public int Completed { get; private set; }

        public Exception? Failed { get; private set; }

        public void OnCallCompleted(RpcMethod? method, int errorCode, long startTimestamp) => Completed++;

        public void OnHandlerFailed(RpcMethod method, Exception exception) => Failed = exception;
    }
}
