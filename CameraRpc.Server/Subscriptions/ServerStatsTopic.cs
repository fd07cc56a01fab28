using System.Text.Json;
using CameraRpc.Protocol;
using CameraRpc.Server.Metrics;

namespace CameraRpc.Server.Subscriptions;

/// <summary>
/// The built-in topic <c>server.stats</c> (CONTRACT section 6): no params, coalesce, scope
/// <c>server.read</c>; a new subscriber gets the current values at once as event 1, then one event a
/// second. One per server (a fed topic of its own, not a process-wide static), so servers hosted side
/// by side in one process never mix their figures.
/// </summary>
/// <remarks>
/// The clock is a <see cref="TimeProvider"/> and <see cref="Tick"/> is public, so tests drive the
/// ticks themselves instead of sleeping. Thread-safe: <see cref="Tick"/> and event 1 may race.
/// </remarks>
internal sealed class ServerStatsTopic
{
    public const string Name = "server.stats";
    public const string Scope = "server.read";

    /// <summary>How often an event goes out.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private const string Descriptor =
        """{"name":"server.stats","summary":"Server statistics once a second (connections, subscriptions, calls, callsPerSecond, errors, receivedBytes, sentBytes, uptimeSeconds), the current values at once as event 1.","params":[],"result":{"name":"result","schema":{"type":"object"}},"x-overflow":"coalesce","x-capacity":1,"x-scope":"server.read"}""";

    private readonly ServerMetrics _metrics;
    private readonly Func<int> _connections;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly Lock _lock = new();
    private long _lastCalls;
    private long _lastTick;
    private double _callsPerSecond;

    public ServerStatsTopic(ServerMetrics metrics, Func<int> connections, TimeProvider? time = null)
    {
        _metrics = metrics;
        _connections = connections;
        _time = time ?? TimeProvider.System;
        _started = _lastTick = _time.GetTimestamp();
        Topic = new RpcTopic<ServerStats>(Current).Bind(Write);
        Info = new RpcTopicInfo(Name, 1, RpcOverflow.Coalesce, Scope, Descriptor, Topic);
    }

    /// <summary>The fed topic the ticks publish to.</summary>
    public RpcTopic<ServerStats> Topic { get; }

    /// <summary>Its table entry; combine it with the server's methods.</summary>
    public RpcTopicInfo Info { get; }

    /// <summary>The figures now (what a new subscriber gets as event 1).</summary>
    public ServerStats Current()
    {
        (long calls, long errors) = CallsAndErrors();
        double rate;
        lock (_lock)
        {
            rate = _callsPerSecond;
        }

        return new ServerStats(
            _connections(),
            _metrics.Subscriptions.Open,
            calls,
            rate,
            errors,
            _metrics.ReceivedBytes,
            _metrics.SentBytes,
            (long)_time.GetElapsedTime(_started).TotalSeconds);
    }

    /// <summary>
    /// One tick: works out the call rate since the previous tick and publishes the figures. Without
    /// subscribers it does nothing at all, so an unwatched server pays nothing for the topic (the first
    /// rate after a quiet spell is then the average since the last watched tick).
    /// </summary>
    public void Tick()
    {
        if (Topic.SubscriberCount == 0)
        {
            return;
        }

        (long calls, _) = CallsAndErrors();
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            double seconds = _time.GetElapsedTime(_lastTick, now).TotalSeconds;
            _callsPerSecond = seconds > 0 ? Math.Round((calls - _lastCalls) / seconds, 3) : 0;
            _lastCalls = calls;
            _lastTick = now;
        }

        Topic.Publish(Current());
    }

    /// <summary>Ticks every <see cref="Interval"/> until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Tick();
            }
        }
        catch (OperationCanceledException)
        {
            // The server stopped.
        }
    }

    private (long Calls, long Errors) CallsAndErrors()
    {
        long calls = 0;
        foreach ((_, long success, long error) in _metrics.GetCallCounts())
        {
            calls += success + error;
        }

        long errors = 0;
        foreach ((_, long count) in _metrics.GetErrorCounts())
        {
            errors += count;
        }

        return (calls, errors);
    }

    private static void Write(Utf8JsonWriter json, ServerStats stats)
    {
        json.WriteStartObject();
        json.WriteNumber("connections"u8, stats.Connections);
        json.WriteNumber("subscriptions"u8, stats.Subscriptions);
        json.WriteNumber("calls"u8, stats.Calls);
        json.WriteNumber("callsPerSecond"u8, stats.CallsPerSecond);
        json.WriteNumber("errors"u8, stats.Errors);
        json.WriteNumber("receivedBytes"u8, stats.ReceivedBytes);
        json.WriteNumber("sentBytes"u8, stats.SentBytes);
        json.WriteNumber("uptimeSeconds"u8, stats.UptimeSeconds);
        json.WriteEndObject();
    }
}
