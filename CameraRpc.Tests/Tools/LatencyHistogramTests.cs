using CameraRpc.Server.Tools.Client;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Tools;

/// <summary>The histogram promises 2 significant digits: every percentile within 1/128 (0.8 %) of the exact one.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class LatencyHistogramTests
{
    private const double Precision = 1.0 / 128;

    [Test]
    public void an_empty_histogram_reports_zero_everywhere()
    {
        var histogram = new LatencyHistogram();

        histogram.Count.Should().Be(0);
        histogram.GetValueAtPercentile(50).Should().Be(0);
        histogram.Max.Should().Be(0);
        histogram.Min.Should().Be(0);
    }

    [TestCase(50)]
    [TestCase(90)]
    [TestCase(99)]
    [TestCase(99.9)]
    public void percentiles_of_a_uniform_distribution_are_within_the_stated_precision(double percentile)
    {
        var histogram = new LatencyHistogram();
        for (long value = 1; value <= 1_000_000; value++)
        {
            histogram.Record(value);
        }

        double exact = percentile / 100 * 1_000_000;
        histogram.GetValueAtPercentile(percentile).Should().BeCloseTo((long)exact, (ulong)(exact * Precision) + 1, "2 significant digits");
    }

    [Test]
    public void small_values_are_exact_to_the_microsecond()
    {
        var histogram = new LatencyHistogram();
        for (int i = 0; i < 99; i++)
        {
            histogram.Record(40);
        }

        histogram.Record(200);

        histogram.GetValueAtPercentile(50).Should().Be(40);
        histogram.GetValueAtPercentile(99).Should().Be(40);
        histogram.GetValueAtPercentile(100).Should().Be(200);
        histogram.Min.Should().Be(40);
    }

    [Test]
    public void a_bimodal_distribution_puts_each_percentile_in_the_right_mode()
    {
        var histogram = new LatencyHistogram();
        for (int i = 0; i < 990; i++)
        {
            histogram.Record(1_000);
        }

        for (int i = 0; i < 10; i++)
        {
            histogram.Record(250_000);
        }

        histogram.GetValueAtPercentile(50).Should().BeCloseTo(1_000, 8);
        histogram.GetValueAtPercentile(99).Should().BeCloseTo(1_000, 8, "990 of 1000 values are 1 ms");
        histogram.GetValueAtPercentile(99.9).Should().BeCloseTo(250_000, 250_000 / 128);
        histogram.Max.Should().Be(250_000);
        histogram.Mean.Should().BeApproximately(3_490, 0.001);
    }

    [Test]
    public void max_stays_exact_beyond_the_trackable_range()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(LatencyHistogram.HighestTrackableMicroseconds * 3);

        histogram.Max.Should().Be(LatencyHistogram.HighestTrackableMicroseconds * 3);
        histogram.GetValueAtPercentile(50).Should().BeGreaterThanOrEqualTo(LatencyHistogram.HighestTrackableMicroseconds);
    }

    [Test]
    public void merging_two_halves_gives_the_same_figures_as_one_histogram()
    {
        var whole = new LatencyHistogram();
        var odd = new LatencyHistogram();
        var even = new LatencyHistogram();
        for (long value = 1; value <= 200_000; value += 7)
        {
            whole.Record(value);
            (value % 2 == 0 ? even : odd).Record(value);
        }

        var merged = new LatencyHistogram();
        merged.Add(odd);
        merged.Add(even);

        merged.Count.Should().Be(whole.Count);
        merged.Max.Should().Be(whole.Max);
        merged.Min.Should().Be(whole.Min);
        merged.Mean.Should().Be(whole.Mean);
        foreach (double percentile in new[] { 0.0, 50, 90, 99, 99.9, 100 })
        {
            merged.GetValueAtPercentile(percentile).Should().Be(whole.GetValueAtPercentile(percentile), "percentile {0}", percentile);
        }
    }

    [Test]
    public void reset_forgets_every_value()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(5_000);
        histogram.Reset();

        histogram.Count.Should().Be(0);
        histogram.GetValueAtPercentile(99).Should().Be(0);
    }
}
