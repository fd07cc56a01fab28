using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Metrics;

/// <summary>
/// The counters behind <c>/metrics</c> (contract §2): connections, bytes, calls by method and outcome,
/// error answers by code, and a call duration histogram. It is also one of the dispatcher's
/// <see cref="IRpcCallObserver"/>s (handler failures reach the log through another,
/// <see cref="Logging.HandlerFailureLog"/>).
/// </summary>
/// <remarks>
/// Lock-free: every update is an <see cref="Interlocked"/> operation, and after a method's first call
/// recording another call allocates nothing. Method labels come from the method table (or
/// <c>unknown</c>), never from client input, which keeps the label set bounded. A scrape reads the
/// counters one by one, so it is a consistent picture of each counter, not of all of them together.
/// </remarks>
internal sealed class ServerMetrics : IRpcCallObserver
{
    /// <summary>The label of calls that ran no method (invalid request, unknown method, shutting down).</summary>
    public const string UnknownMethod = "unknown";

    /// <summary>Upper bounds, in seconds, of the duration histogram's buckets (+Inf is implied).</summary>
    public static IReadOnlyList<double> DurationBucketBounds { get; } =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    // The bounds in Stopwatch ticks, so recording a duration compares integers and needs no division.
    private static readonly long[] s_bucketBoundTicks = DurationBucketBounds.Select(s => (long)Math.Round(s * Stopwatch.Frequency)).ToArray();

    private static readonly Func<RpcMethod, CallCounters> s_createCounters = static method => new CallCounters(method.Name);

    private readonly ConcurrentDictionary<RpcMethod, CallCounters> _calls = new(ReferenceEqualityComparer.Instance);
    private readonly CallCounters _unknownCalls = new(UnknownMethod);
    private readonly ConcurrentDictionary<int, StrongBox<long>> _errors = new();

    // One count per bucket (not cumulative) plus +Inf at the end; the exposition adds them up.
    private readonly long[] _durationBuckets = new long[s_bucketBoundTicks.Length + 1];
    private readonly Func<long> _droppedLogLines;
    private long _durationSumTicks;
    private long _connections;
    private long _connectionsTotal;
    private long _receivedBytes;
    private long _sentBytes;

    /// <param name="droppedLogLines">Reads the log sink's dropped-line count (<see cref="Logging.LogSink.DroppedLines"/>).</param>
    public ServerMetrics(Func<long>? droppedLogLines = null) => _droppedLogLines = droppedLogLines ?? (static () => 0);

    /// <summary>WebSocket connections open now.</summary>
    public long Connections => Volatile.Read(ref _connections);

    /// <summary>The subscription metrics (CONTRACT section 6).</summary>
    public Subscriptions.SubscriptionMetrics Subscriptions { get; } = new();

    /// <summary>WebSocket connections accepted since start.</summary>
    public long ConnectionsTotal => Volatile.Read(ref _connectionsTotal);

    /// <summary>Bytes of inbound messages (WebSocket messages and HTTP bodies).</summary>
    public long ReceivedBytes => Volatile.Read(ref _receivedBytes);

    /// <summary>Bytes of outbound messages.</summary>
    public long SentBytes => Volatile.Read(ref _sentBytes);

    /// <summary>Requests refused by a rate limit, per limit (<c>camerarpc_rate_limited_total</c>).</summary>
    public Security.RateLimitCounters RateLimited { get; } = new();

    /// <summary>Log lines dropped because the log queue was full.</summary>
    public long LogLinesDropped => _droppedLogLines();

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _connections);
        Interlocked.Increment(ref _connectionsTotal);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _connections);

    public void AddReceivedBytes(long count) => Interlocked.Add(ref _receivedBytes, count);

    public void AddSentBytes(long count) => Interlocked.Add(ref _sentBytes, count);

    /// <inheritdoc />
    public void OnCallCompleted(RpcMethod? method, int errorCode, long startTimestamp)
    {
        long elapsed = Math.Max(0, Stopwatch.GetTimestamp() - startTimestamp);
        RecordCall(method, errorCode, elapsed);
    }

    /// <inheritdoc />
    public void OnHandlerFailed(RpcMethod method, Exception exception)
    {
        // Counted by OnCallCompleted as a -32603 answer, like any other error.
    }

    /// <summary>Records one call that took <paramref name="elapsedTicks"/> Stopwatch ticks.</summary>
    internal void RecordCall(RpcMethod? method, int errorCode, long elapsedTicks)
    {
        CallCounters counters = method is null ? _unknownCalls : _calls.GetOrAdd(method, s_createCounters);
        if (errorCode == 0)
        {
            Interlocked.Increment(ref counters.Success);
        }
        else
        {
            Interlocked.Increment(ref counters.Error);
            StrongBox<long> box = _errors.GetOrAdd(errorCode, static _ => new StrongBox<long>());
            Interlocked.Increment(ref box.Value);
        }

        Interlocked.Increment(ref _durationBuckets[GetBucket(elapsedTicks)]);
        Interlocked.Add(ref _durationSumTicks, elapsedTicks);
    }

    /// <summary>Calls per method name, ordinal by name; methods that share a name are added together.</summary>
    public IReadOnlyList<(string Method, long Success, long Error)> GetCallCounts()
    {
        var byName = new SortedDictionary<string, (long Success, long Error)>(StringComparer.Ordinal);
        foreach (CallCounters counters in _calls.Values.Append(_unknownCalls))
        {
            long success = Volatile.Read(ref counters.Success);
            long error = Volatile.Read(ref counters.Error);
            if (success == 0 && error == 0)
            {
                continue;
            }

            byName.TryGetValue(counters.Name, out (long Success, long Error) sum);
            byName[counters.Name] = (sum.Success + success, sum.Error + error);
        }

        return byName.Select(static pair => (pair.Key, pair.Value.Success, pair.Value.Error)).ToList();
    }

    /// <summary>Error answers per code, ascending by code.</summary>
    public IReadOnlyList<(int Code, long Count)> GetErrorCounts() =>
        _errors.Select(static pair => (pair.Key, Volatile.Read(ref pair.Value.Value))).OrderBy(static pair => pair.Key).ToList();

    /// <summary>
    /// The duration histogram: per-bucket counts (not cumulative), one per
    /// <see cref="DurationBucketBounds"/> entry plus the +Inf bucket last, and the sum in seconds.
    /// </summary>
    public (long[] BucketCounts, double SumSeconds) GetDurationHistogram()
    {
        var counts = new long[_durationBuckets.Length];
        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = Volatile.Read(ref _durationBuckets[i]);
        }

        return (counts, (double)Volatile.Read(ref _durationSumTicks) / Stopwatch.Frequency);
    }

    private static int GetBucket(long elapsedTicks)
    {
        long[] bounds = s_bucketBoundTicks;
        int i = 0;
        while (i < bounds.Length && elapsedTicks > bounds[i])
        {
            i++;
        }

        return i;
    }

    private sealed class CallCounters(string name)
    {
        public readonly string Name = name;
        public long Success;
        public long Error;
    }
}
