using System.Text.Json;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Commands;

namespace CameraRpc.Tests.Tools;

/// <summary>
/// bench's report, text and JSON: each request sent is answered (a result), failed (an error answer or a
/// wrong result) or lost (no answer), and the report shows it as sent = answered + failed + lost.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class BenchReportTests
{
    [Test]
    public void the_text_report_shows_sent_as_the_sum_of_answered_failed_and_lost()
    {
        string text = BenchCommand.FormatText(Result(sent: 10, answered: 6, failed: 3, lost: 1));

        text.Should().Contain("  requests: 10 sent = 6 answered + 3 failed + 1 lost; 0 mismatched answers\n");
        text.Should().Contain("  throughput: 9 req/s (answered + failed)", "an error answer is a round trip too, as its latency is");
        text.Should().EndWith("  result: FAILED (connections failed or dropped, or requests failed, lost or mismatched)");
    }

    [Test]
    public void the_json_report_has_the_same_counts()
    {
        using JsonDocument json = JsonDocument.Parse(BenchCommand.FormatJson(Result(sent: 10, answered: 6, failed: 3, lost: 1)));
        JsonElement root = json.RootElement;

        root.GetProperty("sent").GetInt64().Should().Be(10);
        root.GetProperty("answered").GetInt64().Should().Be(6);
        root.GetProperty("failed").GetInt64().Should().Be(3);
        root.GetProperty("lost").GetInt64().Should().Be(1);
        root.GetProperty("requestsPerSecond").GetDouble().Should().Be(9);
        root.GetProperty("ok").GetBoolean().Should().BeFalse();
    }

    [Test]
    public void a_run_with_every_request_answered_is_ok()
    {
        LoadResult result = Result(sent: 10, answered: 10, failed: 0, lost: 0);

        result.IsClean.Should().BeTrue();
        BenchCommand.FormatText(result).Should().EndWith("  result: OK");
    }

    private static LoadResult Result(long sent, long answered, long failed, long lost)
    {
        var options = new LoadOptions(new Uri("ws://127.0.0.1:8002/ws"), 1, 1, TimeSpan.FromSeconds(1), TimeSpan.Zero, "ping", null, null);
        var latency = new LatencyHistogram();
        for (long i = 0; i < answered + failed; i++)
        {
            latency.Record(100);
        }

        return new LoadResult
        {
            Options = options,
            ConnectionsOpened = 1,
            ConnectionsFailed = 0,
            ConnectionsDropped = 0,
            ConnectPhase = TimeSpan.FromMilliseconds(1),
            ConnectLatency = new LatencyHistogram(),
            Sent = sent,
            Answered = answered,
            Failed = failed,
            Lost = lost,
            Mismatched = 0,
            Measured = TimeSpan.FromSeconds(1),
            Latency = latency,
            BenchCpuSeconds = 0.1,
        };
    }
}
