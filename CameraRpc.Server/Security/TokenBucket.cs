namespace CameraRpc.Server.Security;

/// <summary>
/// A token bucket: <c>N</c> tokens a second, holding at most <c>N</c> (the burst). Allocation-free and
/// thread-safe; time comes from an injectable <see cref="TimeProvider"/> so that tests control it.
/// </summary>
/// <remarks>
/// <para>
/// Integer arithmetic, so that edges are exact: the level is kept in token-ticks (one token is
/// <see cref="TimeProvider.TimestampFrequency"/> units), refilled by <c>N</c> units per elapsed tick.
/// With a full bucket of <c>N</c>, the <c>N</c>-th call of one instant passes and the next is refused.
/// </para>
/// <para>
/// A take larger than the burst (an expensive method, or an HTTP batch) is allowed when the bucket is
/// full and leaves it in debt, so that the long-run rate holds without such a request being refused
/// forever. A refusal tells how long until the take would pass, in milliseconds rounded up (at least 1).
/// </para>
/// </remarks>
internal sealed class TokenBucket
{
    private readonly TokenBucketRate _rate;
    private long _level;
    private long _updated;
    private long _lastTaken;

    public TokenBucket(int perSecond, TimeProvider time)
        : this(new TokenBucketRate(perSecond, time))
    {
    }

    /// <summary>A full bucket of <paramref name="rate"/>; many buckets share one rate (an address table's entries).</summary>
    public TokenBucket(TokenBucketRate rate)
    {
        ArgumentNullException.ThrowIfNull(rate);
        _rate = rate;
        _level = rate.Capacity;
        _updated = rate.Time.GetTimestamp();
        _lastTaken = _updated;
    }

    /// <summary>Tokens added per second, and the most the bucket holds.</summary>
    public int PerSecond => (int)_rate.PerSecond;

    /// <summary>Takes <paramref name="cost"/> tokens if they are there.</summary>
    /// <param name="cost">Tokens to take, at least 1.</param>
    /// <param name="retryAfterMs">When refused: milliseconds until the same take would pass (rounded up, at least 1); otherwise 0.</param>
    public bool TryTake(int cost, out long retryAfterMs)
    {
        TokenBucketRate rate = _rate;
        long need = Math.Max(cost, 1) * rate.Unit;
        long now = rate.Time.GetTimestamp();
        lock (this)
        {
            Refill(now);
            _lastTaken = now;
            if (_level >= need || _level >= rate.Capacity)
            {
                _level -= need;
                retryAfterMs = 0;
                return true;
            }

            long deficit = Math.Min(need, rate.Capacity) - _level;

            // deficit / perSecond ticks, as milliseconds: deficit * 1000 / (perSecond * frequency), rounded up.
            Int128 divisor = (Int128)rate.PerSecond * rate.Unit;
            Int128 milliseconds = ((Int128)deficit * 1000 + divisor - 1) / divisor;
            retryAfterMs = (long)Int128.Max(milliseconds, 1);
            return false;
        }
    }

    /// <summary>True when the bucket is full at <paramref name="now"/>: it then holds nothing worth remembering.</summary>
    public bool IsFullAt(long now)
    {
        lock (this)
        {
            Refill(now);
            return _level >= _rate.Capacity;
        }
    }

    /// <summary>The timestamp of the last take (passed or refused).</summary>
    public long LastTaken => Volatile.Read(ref _lastTaken);

    private void Refill(long now)
    {
        long elapsed = now - _updated;
        if (elapsed <= 0)
        {
            return;
        }

        _updated = now;
        long missing = _rate.Capacity - _level;
        if ((Int128)elapsed * _rate.PerSecond >= missing)
        {
            _level = _rate.Capacity;
        }
        else
        {
            _level += elapsed * _rate.PerSecond;
        }
    }
}

/// <summary>The constants of a <see cref="TokenBucket"/>: its rate and clock, shared by every bucket of one limit.</summary>
internal sealed class TokenBucketRate
{
    public TokenBucketRate(int perSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perSecond, 1);
        ArgumentNullException.ThrowIfNull(time);
        Time = time;
        PerSecond = perSecond;
        Unit = time.TimestampFrequency;
        Capacity = checked(perSecond * Unit);
    }

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>Tokens per second, and the burst.</summary>
    public long PerSecond { get; }

    /// <summary>Units of level per token: the clock's ticks per second.</summary>
    public long Unit { get; }

    /// <summary>The full level: the burst in units.</summary>
    public long Capacity { get; }
}
