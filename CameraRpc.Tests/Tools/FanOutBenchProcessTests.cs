using System.Text.Json;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Tools;

/// <summary>
/// <c>bench --subscribers</c> as an operator runs it: the real executable against a real server process started
/// with <c>--bench-topics on</c> on <c>--port 0</c>. Counts only, never timings.
/// </summary>
[NonParallelizable]
public sealed class FanOutBenchProcessTests : SharedServerFixture
{
    protected override string[] ServerArguments => ["--bench-topics", "on"];

    private string Url => $"ws://127.0.0.1:{Server.Port}/ws";

    [Test]
    public void the_server_says_at_startup_that_bench_topics_are_on() =>
        Server.Lines.Should().Contain(
            line => line.Contains("INFO - Bench topics on: topic bench.events and method bench.publish are served", StringComparison.Ordinal),
            "an operator who left the option on sees it in the log");

    [Test]
    [CancelAfter(60_000)]
    public async Task a_small_fan_out_delivers_every_event_to_every_subscriber_without_a_gap(CancellationToken cancellationToken)
    {
        // 16 events back to back: bench.events' capacity, so that every subscriber's queue holds them all
        // however the server's threads are scheduled (a publisher only queues; a longer burst may outrun
        // a writer whose thread is not running, and drop-oldest then drops, as declared).
        CommandProcess.Outcome run = await CommandProcess.RunAsync(
            cancellationToken, "bench", "--url", Url, "--subscribers", "3", "--events", "16", "--json", "--server-pid", Server.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

        run.ExitCode.Should().Be(0, $"every subscriber connected and subscribed: {run}");
        using JsonDocument report = JsonDocument.Parse(run.Stdout);
        JsonElement r = report.RootElement;
        r.GetProperty("connectionsOpened").GetInt32().Should().Be(3);
        r.GetProperty("subscribed").GetInt32().Should().Be(3);
        r.GetProperty("published").GetInt64().Should().Be(16);
        r.GetProperty("expected").GetInt64().Should().Be(48, "16 events to each of 3 subscribers");
        r.GetProperty("delivered").GetInt64().Should().Be(48, "subscribers that keep up get every event");
        r.GetProperty("missed").GetInt64().Should().Be(0);
        r.GetProperty("gapEvents").GetInt64().Should().Be(0);
        r.GetProperty("subscribersBehind").GetInt32().Should().Be(0);
        r.GetProperty("deliveredPerSecond").GetDouble().Should().BePositive();
        JsonElement latency = r.GetProperty("latencyMs");
        latency.GetProperty("count").GetInt64().Should().Be(48, "one publish-to-receive time per delivered event (server and bench share the host's clock)");
        latency.GetProperty("p50").GetDouble().Should().BeLessThanOrEqualTo(latency.GetProperty("p99").GetDouble());
        latency.GetProperty("p99").GetDouble().Should().BeLessThanOrEqualTo(latency.GetProperty("max").GetDouble());
        r.GetProperty("rssConnectedKiB").GetDouble().Should().BePositive("--server-pid reports the server's memory");
        r.GetProperty("rssSubscribedKiB").GetDouble().Should().BePositive();
        r.GetProperty("ok").GetBoolean().Should().BeTrue();
        r.GetProperty("firstProblem").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task a_subscriber_that_stops_reading_does_not_stop_the_others_receiving_everything(CancellationToken cancellationToken)
    {
        // 1,000 events of 8 KiB: far more than the kernel buffers of the stalled connection hold (a few MB),
        // so the server's queue for it overflows, while the two readers keep up.
        CommandProcess.Outcome run = await CommandProcess.RunAsync(
            cancellationToken, "bench", "--url", Url, "--subscribers", "2", "--stalled", "1", "--events", "1000", "--rate", "200", "--size", "8192", "--json");

        run.ExitCode.Should().Be(0, run.ToString());
        using JsonDocument report = JsonDocument.Parse(run.Stdout);
        JsonElement r = report.RootElement;
        r.GetProperty("subscribed").GetInt32().Should().Be(3, "the stalled subscriber subscribed too");
        r.GetProperty("serverDropped").GetInt64().Should().BePositive("the stalled subscriber's queue overflowed: the server dropped its oldest events");
        r.GetProperty("delivered").GetInt64().Should().Be(2000, "the readers still got every event");
        r.GetProperty("gapEvents").GetInt64().Should().Be(0);
        r.GetProperty("subscribersBehind").GetInt32().Should().Be(0);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task with_no_events_it_only_subscribes_and_reports_the_memory(CancellationToken cancellationToken)
    {
        CommandProcess.Outcome run = await CommandProcess.RunAsync(
            cancellationToken, "bench", "--url", Url, "--subscribers", "5", "--events", "0", "--server-pid", Server.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

        run.ExitCode.Should().Be(0, run.ToString());
        run.Stdout.Should().Contain("5 opened, 0 failed; 5 subscribed")
            .And.Contain("published: nothing (--events 0)")
            .And.Contain("KiB per subscription")
            .And.Contain("result: OK");
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task against_a_server_without_bench_topics_it_exits_1_and_says_which_option_is_missing(CancellationToken cancellationToken)
    {
        await using ServerProcess plain = await ServerProcess.StartAsync(cancellationToken);

        CommandProcess.Outcome run = await CommandProcess.RunAsync(
            cancellationToken, "bench", "--url", $"ws://127.0.0.1:{plain.Port}/ws", "--subscribers", "2", "--json");

        run.ExitCode.Should().Be(1, run.ToString());
        using JsonDocument report = JsonDocument.Parse(run.Stdout);
        report.RootElement.GetProperty("subscribed").GetInt32().Should().Be(0);
        report.RootElement.GetProperty("firstProblem").GetString().Should().Contain("\"reason\":\"unknown\"").And.EndWith("(start the server with --bench-topics on)");
        report.RootElement.GetProperty("ok").GetBoolean().Should().BeFalse();
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task it_exits_2_when_no_subscriber_can_connect(CancellationToken cancellationToken)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        CommandProcess.Outcome run = await CommandProcess.RunAsync(cancellationToken, "bench", "--url", $"ws://127.0.0.1:{port}/ws", "--subscribers", "2");

        run.ExitCode.Should().Be(2, run.ToString());
        run.StderrLines.Should().Equal([$"cannot connect to ws://127.0.0.1:{port}/ws: Connection refused"]);
    }
}
