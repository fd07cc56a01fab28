using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using CameraRpc.Protocol;
using CameraRpc.Server.Metrics;

namespace CameraRpc.Server.Subscriptions;

/// <summary>
/// The subscription metrics of CONTRACT section 6: <c>camerarpc_subscriptions{topic}</c>,
/// <c>camerarpc_events_total{topic,outcome}</c> and <c>camerarpc_subscriptions_ended_total{topic,reason}</c>.
/// </summary>
/// <remarks>Thread-safe; counting an event is one dictionary lookup and one interlocked add, no allocation.</remarks>
internal sealed class SubscriptionMetrics
{
    private static readonly RpcSubscriptionEndReason[] s_reasons =
        [RpcSubscriptionEndReason.Completed, RpcSubscriptionEndReason.Overflow, RpcSubscriptionEndReason.Shutdown, RpcSubscriptionEndReason.Failed];

    private readonly ConcurrentDictionary<string, TopicCounters> _topics = new(StringComparer.Ordinal);
    private long _open;

    /// <summary>Subscriptions open now, every topic together (what <c>server.stats</c> reports).</summary>
    public long Open => Volatile.Read(ref _open);

    /// <summary>Lists a topic with zeros, so that its series exist before its first subscription.</summary>
    public void Register(string topic) => For(topic);

    /// <summary>Subscriptions open now on <paramref name="topic"/>.</summary>
    public long OpenOn(string topic) => _topics.TryGetValue(topic, out TopicCounters? counters) ? Volatile.Read(ref counters.Open) : 0;

    public void Opened(string topic)
    {
        Interlocked.Increment(ref For(topic).Open);
        Interlocked.Increment(ref _open);
    }

    public void Closed(string topic)
    {
        Interlocked.Decrement(ref For(topic).Open);
        Interlocked.Decrement(ref _open);
    }

    public void Ended(string topic, RpcSubscriptionEndReason reason) => Interlocked.Increment(ref For(topic).Ended[(int)reason]);

    public void Event(string topic, RpcEventOutcome outcome) => Interlocked.Increment(ref For(topic).Events[(int)outcome]);

    /// <summary>Events of <paramref name="topic"/> with <paramref name="outcome"/> so far.</summary>
    public long Events(string topic, RpcEventOutcome outcome) =>
        _topics.TryGetValue(topic, out TopicCounters? counters) ? Volatile.Read(ref counters.Events[(int)outcome]) : 0;

    /// <summary>Subscriptions of <paramref name="topic"/> the server ended with <paramref name="reason"/> so far.</summary>
    public long EndedOn(string topic, RpcSubscriptionEndReason reason) =>
        _topics.TryGetValue(topic, out TopicCounters? counters) ? Volatile.Read(ref counters.Ended[(int)reason]) : 0;

    /// <summary>Appends the three families in the Prometheus text format.</summary>
    public void AppendTo(StringBuilder text)
    {
        KeyValuePair<string, TopicCounters>[] topics = [.. _topics.OrderBy(static pair => pair.Key, StringComparer.Ordinal)];
        text.Append("# HELP camerarpc_subscriptions Subscriptions open now, by topic.\n# TYPE camerarpc_subscriptions gauge\n");
        foreach ((string topic, TopicCounters counters) in topics)
        {
            Sample(text, "camerarpc_subscriptions", topic, null, null, Volatile.Read(ref counters.Open));
        }

        text.Append("# HELP camerarpc_events_total Events per topic: sent, dropped (drop-oldest) or coalesced (coalesce).\n# TYPE camerarpc_events_total counter\n");
        foreach ((string topic, TopicCounters counters) in topics)
        {
            Sample(text, "camerarpc_events_total", topic, "outcome", "sent", Volatile.Read(ref counters.Events[(int)RpcEventOutcome.Sent]));
            Sample(text, "camerarpc_events_total", topic, "outcome", "dropped", Volatile.Read(ref counters.Events[(int)RpcEventOutcome.Dropped]));
            Sample(text, "camerarpc_events_total", topic, "outcome", "coalesced", Volatile.Read(ref counters.Events[(int)RpcEventOutcome.Coalesced]));
        }

        text.Append("# HELP camerarpc_subscriptions_ended_total Subscriptions the server ended, by topic and reason.\n# TYPE camerarpc_subscriptions_ended_total counter\n");
        foreach ((string topic, TopicCounters counters) in topics)
        {
            foreach (RpcSubscriptionEndReason reason in s_reasons)
            {
                Sample(text, "camerarpc_subscriptions_ended_total", topic, "reason", RpcSubscription.EndReasonText(reason), Volatile.Read(ref counters.Ended[(int)reason]));
            }
        }
    }

    private TopicCounters For(string topic) => _topics.GetOrAdd(topic, static _ => new TopicCounters());

    private static void Sample(StringBuilder text, string name, string topic, string? label, string? value, long count)
    {
        text.Append(name).Append("{topic=\"").Append(PrometheusFormatter.EscapeLabelValue(topic)).Append('"');
        if (label is not null)
        {
            text.Append(',').Append(label).Append("=\"").Append(value).Append('"');
        }

        text.Append("} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private sealed class TopicCounters
    {
        public readonly long[] Events = new long[3];
        public readonly long[] Ended = new long[4];
        public long Open;
    }
}
