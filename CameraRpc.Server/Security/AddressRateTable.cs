using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace CameraRpc.Server.Security;

/// <summary>
/// The per-client-address token buckets: calls (<c>--rate-limit-per-address</c>) and WebSocket
/// upgrades (<c>--connect-rate-limit</c>), shared by all connections and HTTP requests of an address.
/// Bounded under a flood of distinct addresses, and forgets idle ones.
/// </summary>
/// <remarks>
/// <para>
/// An entry whose buckets are full holds nothing worth remembering (a new entry would start full), so
/// forgetting it changes no answer. Every <see cref="SweepInterval"/> such idle entries are dropped.
/// When the table reaches <see cref="Capacity"/> entries, the idle ones go and then, if still more than
/// three quarters full, the least recently used; so a flood of distinct addresses costs at most
/// <see cref="Capacity"/> entries. An entry held by a live WebSocket connection (<see cref="Acquire"/>)
/// is never dropped, so all connections of an address share one bucket; those are bounded by
/// <c>--max-connections</c>. Bound: <see cref="Capacity"/> + live connections entries, of about
/// <see cref="ApproximateEntryBytes"/> bytes each.
/// </para>
/// <para>
/// The table's lock is taken per upgrade, per HTTP request and per connection start; a WebSocket call
/// takes only its entry's bucket (the connection holds the entry), so calls never contend on the table.
/// </para>
/// </remarks>
internal sealed class AddressRateTable
{
    /// <summary>Entries kept before the oldest are dropped.</summary>
    public const int DefaultCapacity = 16_384;

    /// <summary>Upper bound of one entry with both limits on (dictionary slots as grown, entry, two buckets): measured about 300; a test checks it.</summary>
    public const int ApproximateEntryBytes = 320;

    private readonly Dictionary<UInt128, AddressEntry> _entries = [];
    private readonly TokenBucketRate? _callRate;
    private readonly TokenBucketRate? _connectRate;
    private readonly TimeProvider _time;
    private readonly long _sweepTicks;
    private long _lastSweep;

    public AddressRateTable(int callsPerSecond, int connectsPerSecond, TimeProvider time, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(callsPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(connectsPerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 4);
        ArgumentNullException.ThrowIfNull(time);
        _callRate = callsPerSecond > 0 ? new TokenBucketRate(callsPerSecond, time) : null;
        _connectRate = connectsPerSecond > 0 ? new TokenBucketRate(connectsPerSecond, time) : null;
        _time = time;
        Capacity = capacity;
        _sweepTicks = (long)(SweepInterval.TotalSeconds * time.TimestampFrequency);
        _lastSweep = time.GetTimestamp();
    }

    /// <summary>How often idle entries are forgotten.</summary>
    public static TimeSpan SweepInterval { get; } = TimeSpan.FromSeconds(10);

    /// <summary>Entries kept (not counting those held by live connections) before the least recently used go.</summary>
    public int Capacity { get; }

    /// <summary>Entries held now.</summary>
    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>True when calls per address are limited.</summary>
    public bool LimitsCalls => _callRate is not null;

    /// <summary>The entry of <paramref name="address"/>, held until <see cref="Release"/>: a WebSocket connection's for its lifetime.</summary>
    public AddressEntry Acquire(IPAddress address)
    {
        lock (_entries)
        {
            AddressEntry entry = GetOrAdd(address);
            entry.Holders++;
            return entry;
        }
    }

    /// <summary>Lets the table forget <paramref name="entry"/> once idle.</summary>
    public void Release(AddressEntry entry)
    {
        lock (_entries)
        {
            entry.Holders--;
        }
    }

    /// <summary>Takes <paramref name="cost"/> from the call bucket of <paramref name="address"/> (an HTTP request); true when no limit is set.</summary>
    public bool TryTakeCalls(IPAddress address, int cost, out long retryAfterMs)
    {
        AddressEntry entry;
        lock (_entries)
        {
            entry = GetOrAdd(address);
        }

        return entry.TryTakeCalls(cost, out retryAfterMs);
    }

    /// <summary>Takes one upgrade from the connect bucket of <paramref name="address"/>; true when no limit is set.</summary>
    public bool TryConnect(IPAddress address, out long retryAfterMs)
    {
        AddressEntry entry;
        lock (_entries)
        {
            entry = GetOrAdd(address);
        }

        if (entry.Connects is null)
        {
            retryAfterMs = 0;
            return true;
        }

        return entry.Connects.TryTake(1, out retryAfterMs);
    }

    private AddressEntry GetOrAdd(IPAddress address)
    {
        UInt128 key = KeyOf(address);
        long now = _time.GetTimestamp();
        if (now - _lastSweep >= _sweepTicks)
        {
            _lastSweep = now;
            ForgetIdle(now);
        }

        if (_entries.TryGetValue(key, out AddressEntry? entry))
        {
            return entry;
        }

        if (_entries.Count >= Capacity)
        {
            MakeRoom(now);
        }

        entry = new AddressEntry(
            _callRate is null ? null : new TokenBucket(_callRate),
            _connectRate is null ? null : new TokenBucket(_connectRate));
        _entries.Add(key, entry);
        return entry;
    }

    private void ForgetIdle(long now)
    {
        foreach ((UInt128 key, AddressEntry entry) in _entries)
        {
            if (entry.Holders == 0 && entry.IsIdleAt(now))
            {
                _entries.Remove(key); // removing during enumeration is allowed for Dictionary
            }
        }
    }

    /// <summary>Full: drop the idle entries, then the least recently used until three quarters full (amortised O(log n) per insert).</summary>
    private void MakeRoom(long now)
    {
        ForgetIdle(now);
        int target = Capacity * 3 / 4;
        if (_entries.Count <= target)
        {
            return;
        }

        var candidates = new List<(long LastUsed, UInt128 Key)>(_entries.Count);
        foreach ((UInt128 key, AddressEntry entry) in _entries)
        {
            if (entry.Holders == 0)
            {
                candidates.Add((entry.LastUsed, key));
            }
        }

        candidates.Sort(static (a, b) => a.LastUsed.CompareTo(b.LastUsed));
        for (int i = 0; i < candidates.Count && _entries.Count > target; i++)
        {
            _entries.Remove(candidates[i].Key);
        }
    }

    /// <summary>The address as 16 bytes (IPv4 as IPv4-mapped IPv6), so that both forms of one client share an entry.</summary>
    internal static UInt128 KeyOf(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            bytes[10] = 0xff;
            bytes[11] = 0xff;
            address.TryWriteBytes(bytes[12..], out _);
        }
        else
        {
            address.TryWriteBytes(bytes, out _);
        }

        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }
}

/// <summary>The buckets of one client address.</summary>
internal sealed class AddressEntry
{
    public AddressEntry(TokenBucket? calls, TokenBucket? connects)
    {
        Calls = calls;
        Connects = connects;
    }

    /// <summary>The shared call bucket, or null when calls per address are not limited.</summary>
    public TokenBucket? Calls { get; }

    /// <summary>The upgrade bucket, or null when upgrades are not limited.</summary>
    public TokenBucket? Connects { get; }

    /// <summary>Live connections holding this entry (changed under the table's lock).</summary>
    public int Holders { get; set; }

    /// <summary>When a bucket of this entry was last used.</summary>
    public long LastUsed => Math.Max(Calls?.LastTaken ?? 0, Connects?.LastTaken ?? 0);

    /// <summary>Takes from the call bucket; true when calls per address are not limited.</summary>
    public bool TryTakeCalls(int cost, out long retryAfterMs)
    {
        if (Calls is null)
        {
            retryAfterMs = 0;
            return true;
        }

        return Calls.TryTake(cost, out retryAfterMs);
    }

    /// <summary>True when both buckets are full: forgetting the entry changes nothing.</summary>
    public bool IsIdleAt(long now) => (Calls?.IsFullAt(now) ?? true) && (Connects?.IsFullAt(now) ?? true);
}
