using System.Text.Json;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Tools;

public sealed partial class ToolProcessTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task bench_of_ping_answers_every_request_sent(CancellationToken cancellationToken)
    {
        CommandProcess.Outcome run = await RunBenchAsync(cancellationToken, "--method", "ping");

        run.ExitCode.Should().Be(0, $"nothing was lost or failed: {run}");
        using JsonDocument report = JsonDocument.Parse(run.Stdout);
        (long sent, long answered, long failed, long lost) = Counts(report);
        sent.Should().BePositive("a one-second run sends requests");
        (answered + failed + lost).Should().Be(sent, "every request sent is answered, failed or lost");
        failed.Should().Be(0, "every ping gets its pong");
        lost.Should().Be(0, "the server answers every request");
        report.RootElement.GetProperty("mismatched").GetInt64().Should().Be(0);
        report.RootElement.GetProperty("connectionsOpened").GetInt32().Should().Be(2);
        report.RootElement.GetProperty("ok").GetBoolean().Should().BeTrue();
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task bench_of_a_method_that_errors_counts_every_request_as_failed_and_exits_1(CancellationToken cancellationToken)
    {
        CommandProcess.Outcome run = await RunBenchAsync(cancellationToken, "--method", "nosuch");

        run.ExitCode.Should().Be(1, $"every request failed: {run}");
        using JsonDocument report = JsonDocument.Parse(run.Stdout);
        (long sent, long answered, long failed, long lost) = Counts(report);
        sent.Should().BePositive();
        failed.Should().Be(sent, "each answer is the -32601 error, so each request failed");
        answered.Should().Be(0, "answered counts results only");
        lost.Should().Be(0);
        report.RootElement.GetProperty("firstProblem").GetString().Should().Contain("-32601");
        report.RootElement.GetProperty("ok").GetBoolean().Should().BeFalse();
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task bench_with_compression_answers_every_request_and_says_whether_the_server_took_deflate(CancellationToken cancellationToken)
    {
        CommandProcess.Outcome run = await RunBenchAsync(cancellationToken, "--method", "echo", "--params", "[\"a camera control list, compressible\"]", "--compression");

        run.ExitCode.Should().Be(0, $"nothing was lost or failed over the runtime's client either: {run}");
        using JsonDocument report = JsonDocument.Parse(run.Stdout);
        (long sent, long answered, long failed, long lost) = Counts(report);
        sent.Should().BePositive();
        answered.Should().Be(sent, "every echo comes back with its message");
        (failed, lost).Should().Be((0L, 0L));
        report.RootElement.GetProperty("compressionOffered").GetBoolean().Should().BeTrue();
        report.RootElement.GetProperty("connectionsCompressed").GetInt32().Should().BeInRange(0, 2, "the server may or may not accept the offer; the report counts those that did");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task bench_exits_2_at_once_with_one_line_when_no_connection_opens(CancellationToken cancellationToken)
    {
        string url = RefusedUrl("ws");

        // A minute of warm-up and a minute of measurement: the test's 30 s limit fails it if bench waits for them.
        CommandProcess.Outcome run = await CommandProcess.RunAsync(cancellationToken, "bench", "--url", url, "--warmup", "60", "--duration", "60");

        run.ExitCode.Should().Be(2, $"2 means cannot connect: {run}");
        run.Stdout.Should().BeEmpty("there is nothing to report");
        run.StderrLines.Should().Equal([$"cannot connect to {url}: Connection refused"]);
    }

    private Task<CommandProcess.Outcome> RunBenchAsync(CancellationToken cancellationToken, params string[] args) =>
        CommandProcess.RunAsync(
            cancellationToken,
            ["bench", "--url", ServerUrl("ws"), "--connections", "2", "--pipeline", "4", "--duration", "1", "--warmup", "0", "--json", .. args]);

    private static (long Sent, long Answered, long Failed, long Lost) Counts(JsonDocument report) =>
        (report.RootElement.GetProperty("sent").GetInt64(),
         report.RootElement.GetProperty("answered").GetInt64(),
         report.RootElement.GetProperty("failed").GetInt64(),
         report.RootElement.GetProperty("lost").GetInt64());
}
