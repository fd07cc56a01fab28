namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// An HDR-style latency histogram in microseconds: log-linear buckets with 2 significant
/// decimal digits (relative error at most 1/128, under 0.8 %) from 1 µs up to 60 s.
/// </summary>
/// <remarks>
/// Not thread-safe on purpose: each connection of the load generator owns one and records
/// without locks or atomics; the figures are merged once at the end with <see cref="Add"/>.
/// Values below 256 µs get one bucket each; every power of two above that is split into 128
/// equal buckets. The buckets of a power of two are allocated the first time a value lands
/// there, so a histogram costs ~1 KiB plus 512 bytes per octave actually used (10,000
/// connections must not need 10,000 × 10 KiB); after that, recording never allocates.
/// </remarks>
internal sealed class LatencyHistogram
{
    /// <summary>Largest value kept in a bucket; larger values count in the top bucket (the exact maximum is still kept).</summary>
    public const long HighestTrackableMicroseconds = 60_000_000;

    private const int SubBucketBits = 8;                         // 256 = 2^ceil(log2(2 * 10^2)), HDR's rule for 2 digits
    private const int SubBucketCount = 1 << SubBucketBits;       // values 0..255 exact
    private const int HalfCount = SubBucketCount / 2;            // 128 buckets per higher octave
    private static readonly int s_octaves = 64 - (int)long.LeadingZeroCount(HighestTrackableMicroseconds) - SubBucketBits;

    private readonly long[] _low = new long[SubBucketCount];
    private readonly long[]?[] _octaves = new long[s_octaves][];
    private long _count;
    private long _sum;
    private long _min = long.MaxValue;
    private long _max;

    /// <summary>How many values were recorded.</summary>
    public long Count => _count;

    /// <summary>The largest recorded value, exact (µs); 0 when empty.</summary>
    public long Max => _max;

    /// <summary>The smallest recorded value, exact (µs); 0 when empty.</summary>
    public long Min => _count == 0 ? 0 : _min;

    /// <summary>The arithmetic mean (µs), exact; 0 when empty.</summary>
    public double Mean => _count == 0 ? 0 : (double)_sum / _count;

    /// <summary>Records one value in microseconds; negative values count as 0.</summary>
    public void Record(long microseconds)
    {
        if (microseconds < 0)
        {
            microseconds = 0;
        }

        _count++;
        _sum += microseconds;
        if (microseconds > _max)
        {
            _max = microseconds;
        }

        if (microseconds < _min)
        {
            _min = microseconds;
        }

        long clamped = Math.Min(microseconds, HighestTrackableMicroseconds);
        if (clamped < SubBucketCount)
        {
            _low[clamped]++;
            return;
        }

        // Octave o holds [2^(o+8), 2^(o+9)); within it the value keeps its top 8 bits.
        int octave = 63 - (int)long.LeadingZeroCount(clamped) - SubBucketBits;
        int shift = octave + 1;
        int index = (int)(clamped >> shift) - HalfCount;
        long[] buckets = _octaves[octave] ??= new long[HalfCount];
        buckets[index]++;
    }

    /// <summary>Records a duration measured with <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>.</summary>
    public void RecordTicks(long stopwatchTicks) =>
        Record(stopwatchTicks * 1_000_000 / System.Diagnostics.Stopwatch.Frequency);

    /// <summary>Adds every value of <paramref name="other"/> to this histogram.</summary>
    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < SubBucketCount; i++)
        {
            _low[i] += other._low[i];
        }

        for (int o = 0; o < s_octaves; o++)
        {
            long[]? source = other._octaves[o];
            if (source is null)
            {
                continue;
            }

            long[] target = _octaves[o] ??= new long[HalfCount];
            for (int i = 0; i < HalfCount; i++)
            {
                target[i] += source[i];
            }
        }

        _count += other._count;
        _sum += other._sum;
        _max = Math.Max(_max, other._max);
        _min = Math.Min(_min, other._min);
    }

    /// <summary>Forgets every value.</summary>
    public void Reset()
    {
        Array.Clear(_low);
        Array.Clear(_octaves);
        _count = 0;
        _sum = 0;
        _min = long.MaxValue;
        _max = 0;
    }

    /// <summary>
    /// The value at <paramref name="percentile"/> (0..100) in microseconds: the highest value
    /// equivalent to the bucket holding that rank, capped at the exact maximum, as HdrHistogram reports it.
    /// </summary>
    public long GetValueAtPercentile(double percentile)
    {
        if (_count == 0)
        {
            return 0;
        }

        double clampedPercentile = Math.Clamp(percentile, 0, 100);
        long rank = Math.Max(1, (long)Math.Ceiling(clampedPercentile / 100 * _count));
        long seen = 0;
        for (int i = 0; i < SubBucketCount; i++)
        {
            seen += _low[i];
            if (seen >= rank)
            {
                return Math.Min(i, _max);
            }
        }

        for (int o = 0; o < s_octaves; o++)
        {
            long[]? buckets = _octaves[o];
            if (buckets is null)
            {
                continue;
            }

            int shift = o + 1;
            for (int i = 0; i < HalfCount; i++)
            {
                seen += buckets[i];
                if (seen >= rank)
                {
                    long highestEquivalent = ((long)(i + HalfCount + 1) << shift) - 1;
                    return Math.Min(highestEquivalent, _max);
                }
            }
        }

        return _max;
    }
}
