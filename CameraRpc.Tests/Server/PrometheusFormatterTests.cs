using System.Diagnostics;
using CameraRpc.Server.Metrics;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Server;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class PrometheusFormatterTests
{
    [Test]
    public void an_idle_server_exposes_every_metric_with_help_and_type()
    {
        string text = PrometheusFormatter.Format(new ServerMetrics());

        text.Should().StartWith("""
            # HELP camerarpc_connections WebSocket connections open now.
            # TYPE camerarpc_connections gauge
            camerarpc_connections 0
            # HELP camerarpc_connections_total WebSocket connections accepted since start.
            # TYPE camerarpc_connections_total counter
            camerarpc_connections_total 0
            # HELP camerarpc_calls_total JSON-RPC calls answered or run, by method and outcome.
            # TYPE camerarpc_calls_total counter
            # HELP camerarpc_call_duration_seconds
            """.ReplaceLineEndings("\n"));
        text.Should().EndWith("""
            camerarpc_call_duration_seconds_bucket{le="+Inf"} 0
            camerarpc_call_duration_seconds_sum 0
            camerarpc_call_duration_seconds_count 0
            # HELP camerarpc_received_bytes_total Bytes of inbound messages.
            # TYPE camerarpc_received_bytes_total counter
            camerarpc_received_bytes_total 0
            # HELP camerarpc_sent_bytes_total Bytes of outbound messages.
            # TYPE camerarpc_sent_bytes_total counter
            camerarpc_sent_bytes_total 0
            # HELP camerarpc_rate_limited_total Calls, HTTP requests and upgrades refused by a rate limit, by limit.
            # TYPE camerarpc_rate_limited_total counter
            camerarpc_rate_limited_total{limit="connection"} 0
            camerarpc_rate_limited_total{limit="address"} 0
            camerarpc_rate_limited_total{limit="connect"} 0
            # HELP camerarpc_errors_total JSON-RPC error answers, by error code.
            # TYPE camerarpc_errors_total counter
            # HELP camerarpc_log_lines_dropped_total Log lines dropped because the log queue was full.
            # TYPE camerarpc_log_lines_dropped_total counter
            camerarpc_log_lines_dropped_total 0
            # HELP camerarpc_subscriptions Subscriptions open now, by topic.
            # TYPE camerarpc_subscriptions gauge
            # HELP camerarpc_events_total Events per topic: sent, dropped (drop-oldest) or coalesced (coalesce).
            # TYPE camerarpc_events_total counter
            # HELP camerarpc_subscriptions_ended_total Subscriptions the server ended, by topic and reason.
            # TYPE camerarpc_subscriptions_ended_total counter

            """.ReplaceLineEndings("\n"));
        text.Should().NotContain("\r");
        PrometheusFormatter.ContentType.Should().Be("text/plain; version=0.0.4; charset=utf-8");
    }

    [Test]
    public void subscription_metrics_show_every_registered_topic_by_outcome_and_reason()
    {
        var metrics = new ServerMetrics();
        metrics.Subscriptions.Register("server.stats");
        metrics.Subscriptions.Opened("camera.controls");
        metrics.Subscriptions.Event("camera.controls", CameraRpc.Protocol.RpcEventOutcome.Coalesced);
        metrics.Subscriptions.Ended("camera.controls", CameraRpc.Protocol.RpcSubscriptionEndReason.Overflow);
        metrics.Subscriptions.Closed("camera.controls");

        string text = PrometheusFormatter.Format(metrics);

        text.Should().Contain("""
            camerarpc_subscriptions{topic="camera.controls"} 0
            camerarpc_subscriptions{topic="server.stats"} 0
            """.ReplaceLineEndings("\n"));
        text.Should().Contain("""camerarpc_events_total{topic="camera.controls",outcome="coalesced"} 1""" + "\n");
        text.Should().Contain("""camerarpc_events_total{topic="server.stats",outcome="sent"} 0""" + "\n");
        text.Should().Contain("""camerarpc_subscriptions_ended_total{topic="camera.controls",reason="overflow"} 1""" + "\n");
        text.Should().Contain("""camerarpc_subscriptions_ended_total{topic="server.stats",reason="shutdown"} 0""" + "\n");
    }

    [Test]
    public void counters_show_their_values_and_labels()
    {
        var metrics = new ServerMetrics(() => 3);
        metrics.ConnectionOpened();
        metrics.ConnectionOpened();
        metrics.ConnectionClosed();
        metrics.AddReceivedBytes(1234);
        metrics.AddSentBytes(99);
        metrics.RecordCall(ServerMetricsTests.Method("ping"), 0, 0);
        metrics.RecordCall(null, -32601, 0);

        string text = PrometheusFormatter.Format(metrics);

        text.Should().Contain("\ncamerarpc_connections 1\n");
        text.Should().Contain("\ncamerarpc_connections_total 2\n");
        text.Should().Contain("""

            camerarpc_calls_total{method="ping",outcome="success"} 1
            camerarpc_calls_total{method="ping",outcome="error"} 0
            camerarpc_calls_total{method="unknown",outcome="success"} 0
            camerarpc_calls_total{method="unknown",outcome="error"} 1

            """.ReplaceLineEndings("\n"));
        text.Should().Contain("\ncamerarpc_received_bytes_total 1234\n");
        text.Should().Contain("\ncamerarpc_sent_bytes_total 99\n");
        text.Should().Contain("\ncamerarpc_errors_total{code=\"-32601\"} 1\n");
        text.Should().Contain("\ncamerarpc_log_lines_dropped_total 3\n");
    }

    [Test]
    public void histogram_buckets_are_cumulative_and_end_with_inf_equal_to_count()
    {
        var metrics = new ServerMetrics();
        long ms = Stopwatch.Frequency / 1000;
        metrics.RecordCall(null, 0, 0);            // 0 s
        metrics.RecordCall(null, 0, 3 * ms);       // 0.003 s
        metrics.RecordCall(null, 0, 3 * ms);       // 0.003 s
        metrics.RecordCall(null, 0, 20_000 * ms);  // 20 s

        string text = PrometheusFormatter.Format(metrics);

        text.Should().Contain("""
            # HELP camerarpc_call_duration_seconds Time from a call's dispatch to its answer, in seconds.
            # TYPE camerarpc_call_duration_seconds histogram
            camerarpc_call_duration_seconds_bucket{le="0.0001"} 1
            camerarpc_call_duration_seconds_bucket{le="0.00025"} 1
            camerarpc_call_duration_seconds_bucket{le="0.0005"} 1
            camerarpc_call_duration_seconds_bucket{le="0.001"} 1
            camerarpc_call_duration_seconds_bucket{le="0.0025"} 1
            camerarpc_call_duration_seconds_bucket{le="0.005"} 3
            camerarpc_call_duration_seconds_bucket{le="0.01"} 3
            camerarpc_call_duration_seconds_bucket{le="0.025"} 3
            camerarpc_call_duration_seconds_bucket{le="0.05"} 3
            camerarpc_call_duration_seconds_bucket{le="0.1"} 3
            camerarpc_call_duration_seconds_bucket{le="0.25"} 3
            camerarpc_call_duration_seconds_bucket{le="0.5"} 3
            camerarpc_call_duration_seconds_bucket{le="1"} 3
            camerarpc_call_duration_seconds_bucket{le="2.5"} 3
            camerarpc_call_duration_seconds_bucket{le="5"} 3
            camerarpc_call_duration_seconds_bucket{le="10"} 3
            camerarpc_call_duration_seconds_bucket{le="+Inf"} 4
            camerarpc_call_duration_seconds_sum 20.006
            camerarpc_call_duration_seconds_count 4

            """.ReplaceLineEndings("\n"));
    }

    [TestCase("plain", "plain")]
    [TestCase("back\\slash", "back\\\\slash")]
    [TestCase("say \"hi\"", "say \\\"hi\\\"")]
    [TestCase("two\nlines", "two\\nlines")]
    public void label_values_are_escaped(string value, string expected)
    {
        PrometheusFormatter.EscapeLabelValue(value).Should().Be(expected);
    }

    [Test]
    public void a_method_name_is_escaped_in_its_label()
    {
        var metrics = new ServerMetrics();
        metrics.RecordCall(ServerMetricsTests.Method("odd\"name\\\n"), 0, 0);

        PrometheusFormatter.Format(metrics).Should().Contain("camerarpc_calls_total{method=\"odd\\\"name\\\\\\n\",outcome=\"success\"} 1\n");
    }
}
