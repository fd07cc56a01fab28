using System.Diagnostics;
using CameraRpc.Protocol;
using CameraRpc.Server.Metrics;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Server;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class ServerMetricsTests
{
    private static readonly long s_oneMillisecond = Stopwatch.Frequency / 1000;

    internal static RpcMethod Method(string name) =>
        new(name, static _ => default, "{}");

    [Test]
    public void connections_count_up_and_down_and_the_total_only_up()
    {
        var metrics = new ServerMetrics();

        metrics.ConnectionOpened();
        metrics.ConnectionOpened();
        metrics.ConnectionClosed();

        metrics.Connections.Should().Be(1);
        metrics.ConnectionsTotal.Should().Be(2);
    }

    [Test]
    public void calls_are_counted_by_method_and_outcome_and_errors_by_code()
    {
        var metrics = new ServerMetrics();
        RpcMethod ping = Method("ping");
        RpcMethod echo = Method("echo");

        metrics.RecordCall(ping, 0, s_oneMillisecond);
        metrics.RecordCall(ping, 0, s_oneMillisecond);
        metrics.RecordCall(echo, -32602, s_oneMillisecond);
        metrics.RecordCall(null, -32601, s_oneMillisecond);
        metrics.RecordCall(null, -32601, s_oneMillisecond);

        metrics.GetCallCounts().Should().Equal(("echo", 0L, 1L), ("ping", 2L, 0L), ("unknown", 0L, 2L));
        metrics.GetErrorCounts().Should().Equal((-32602, 1L), (-32601, 2L));
    }

    [Test]
    public void two_method_entries_with_one_name_share_a_label()
    {
        var metrics = new ServerMetrics();

        metrics.RecordCall(Method("ping"), 0, 0);
        metrics.RecordCall(Method("ping"), 0, 0);

        metrics.GetCallCounts().Should().Equal(("ping", 2L, 0L));
    }

    [Test]
    public void a_duration_lands_in_the_first_bucket_whose_bound_it_does_not_exceed()
    {
        var metrics = new ServerMetrics();

        metrics.RecordCall(null, 0, 0);                                   // 0 s → le=0.0001
        metrics.RecordCall(null, 0, s_oneMillisecond);                    // exactly 0.001 → le=0.001
        metrics.RecordCall(null, 0, s_oneMillisecond * 3);                // 0.003 → le=0.005
        metrics.RecordCall(null, 0, Stopwatch.Frequency * 60);            // 60 s → +Inf

        (long[] buckets, double sum) = metrics.GetDurationHistogram();
        buckets.Should().HaveCount(ServerMetrics.DurationBucketBounds.Count + 1);
        buckets[0].Should().Be(1);
        buckets[ServerMetrics.DurationBucketBounds.ToList().IndexOf(0.001)].Should().Be(1);
        buckets[ServerMetrics.DurationBucketBounds.ToList().IndexOf(0.005)].Should().Be(1);
        buckets[^1].Should().Be(1, "60 s is over the largest bound");
        buckets.Sum().Should().Be(4);
        sum.Should().BeApproximately(60.004, 1e-6);
    }

    [Test]
    public void the_observer_measures_from_the_start_timestamp()
    {
        var metrics = new ServerMetrics();

        ((IRpcCallObserver)metrics).OnCallCompleted(Method("ping"), 0, Stopwatch.GetTimestamp() - (Stopwatch.Frequency * 20));

        metrics.GetDurationHistogram().BucketCounts[^1].Should().Be(1, "a call started 20 s ago took more than 10 s");
    }

    [Test]
    public void dropped_log_lines_come_from_the_sink()
    {
        var metrics = new ServerMetrics(() => 42);

        metrics.LogLinesDropped.Should().Be(42, "the sink counts what it dropped; the metrics only read it");
    }

    [Test]
    public void bytes_are_added_up()
    {
        var metrics = new ServerMetrics();

        metrics.AddReceivedBytes(10);
        metrics.AddReceivedBytes(5);
        metrics.AddSentBytes(7);

        metrics.ReceivedBytes.Should().Be(15);
        metrics.SentBytes.Should().Be(7);
    }

    [Test]
    public void counting_a_known_method_again_allocates_nothing()
    {
        var metrics = new ServerMetrics();
        RpcMethod ping = Method("ping");
        metrics.RecordCall(ping, -32000, 1);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            metrics.RecordCall(ping, 0, 1);
            metrics.RecordCall(ping, -32000, 1);
            metrics.RecordCall(null, -32000, 1);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().Be(0, "the observer runs on every call");
    }
}
