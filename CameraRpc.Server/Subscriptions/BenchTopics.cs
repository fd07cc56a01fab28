using System.Diagnostics;
using System.Text.Json;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Subscriptions;

/// <summary>
/// What <c>serve --bench-topics on</c> adds for <c>bench --subscribers</c> (the fan-out benchmark): the fed
/// topic <c>bench.events</c> and the method <c>bench.publish</c>, which runs one publisher in the server's
/// own process. Off by default, and then neither exists (an unknown topic, method not found) and nothing
/// of this runs.
/// </summary>
/// <remarks>
/// <para><c>bench.events</c> is declared like a typical camera topic: <c>drop-oldest</c> with the default
/// capacity (<see cref="RpcTopicAttribute.DefaultCapacity"/>), so a subscriber that falls behind sees a gap
/// in <c>seq</c>, and a new subscriber gets nothing until the next publish.</para>
/// <para><c>bench.publish</c> <c>{"events":N,"rate":R,"size":S}</c> publishes N events (<see cref="BenchEvent"/>),
/// R a second (0: back to back, yielding the thread after each so that the connections' writers get turns),
/// each padded with a string of S bytes (0: none; bigger events fill a stalled subscriber's socket sooner)
/// and answers <c>{"published":N,"subscribers":S,"elapsedMs":X,"timestampFrequency":F}</c> once done. Calls
/// run one at a time, so there is only ever one publisher. A cancelled call (<c>$/cancelRequest</c>, its
/// connection gone, shutdown) stops publishing.</para>
/// </remarks>
internal sealed class BenchTopics
{
    public const string TopicName = "bench.events";
    public const string PublishMethodName = "bench.publish";

    /// <summary>Most events one <c>bench.publish</c> call publishes.</summary>
    public const int MaxEvents = 100_000_000;

    /// <summary>Largest <c>rate</c>: beyond it pacing means nothing (the publisher's own cost is more than the interval).</summary>
    public const int MaxRate = 10_000_000;

    /// <summary>Largest <c>size</c>, the padding of one event in bytes.</summary>
    public const int MaxSize = 65_536;

    private const string TopicDescriptor =
        """{"name":"bench.events","summary":"Benchmark events published by bench.publish (serve --bench-topics on): {i, t[, p]}, t the publish time as Stopwatch.GetTimestamp(), p padding.","params":[],"result":{"name":"result","schema":{"type":"object"}},"x-overflow":"drop-oldest","x-capacity":16}""";

    private const string PublishDescriptor =
        """{"name":"bench.publish","summary":"Publishes N bench.events, R a second (0: back to back), each padded with S bytes; answers when done. serve --bench-topics on only.","params":[{"name":"events","required":true,"schema":{"type":"integer","minimum":0,"maximum":100000000}},{"name":"rate","required":false,"schema":{"type":"integer","minimum":0,"maximum":10000000}},{"name":"size","required":false,"schema":{"type":"integer","minimum":0,"maximum":65536}}],"result":{"name":"result","schema":{"type":"object"}}}""";

    private static readonly byte[][] s_publishNames = ["events"u8.ToArray(), "rate"u8.ToArray(), "size"u8.ToArray()];

    private readonly RpcTopic<BenchEvent> _topic;
    private readonly SemaphoreSlim _onePublisher = new(1, 1);

    public BenchTopics()
    {
        _topic = new RpcTopic<BenchEvent>().Bind(Write);
        Table = new RpcMethodTable(
            [new RpcMethod(PublishMethodName, PublishAsync, PublishDescriptor)],
            [new RpcTopicInfo(TopicName, RpcTopicAttribute.DefaultCapacity, RpcOverflow.DropOldest, scope: null, TopicDescriptor, _topic)]);
    }

    /// <summary>The topic and the method; combine it with the server's table.</summary>
    public RpcMethodTable Table { get; }

    private ValueTask<RpcInvokeResult> PublishAsync(RpcInvocation invocation)
    {
        int events = -1;
        int rate = 0;
        int size = 0;
        var reader = new RpcParamsReader(in invocation);
        while (reader.MoveNext(s_publishNames, out int slot))
        {
            switch (slot)
            {
                case 0:
                    if (!reader.TryReadInt32(out events) || events is < 0 or > MaxEvents)
                    {
                        return InvalidParams("events", RpcParamFailure.Type);
                    }

                    break;
                case 1:
                    if (!reader.TryReadInt32(out rate) || rate is < 0 or > MaxRate)
                    {
                        return InvalidParams("rate", RpcParamFailure.Type);
                    }

                    break;
                case 2:
                    if (!reader.TryReadInt32(out size) || size is < 0 or > MaxSize)
                    {
                        return InvalidParams("size", RpcParamFailure.Type);
                    }

                    break;
                default:
                    return InvalidParams(reader.UnexpectedName!, RpcParamFailure.Unexpected);
            }
        }

        return events < 0
            ? InvalidParams("events", RpcParamFailure.Missing)
            : RunAsync(events, rate, size == 0 ? null : Padding(size), invocation.Result, invocation.CancellationToken);
    }

    private async ValueTask<RpcInvokeResult> RunAsync(int events, int rate, byte[]? padding, Utf8JsonWriter result, CancellationToken cancellationToken)
    {
        await _onePublisher.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int subscribers = _topic.SubscriberCount;
            long started = Stopwatch.GetTimestamp();
            if (rate == 0)
            {
                for (int i = 1; i <= events; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    _topic.Publish(new BenchEvent(i, Stopwatch.GetTimestamp(), padding));
                    await Task.Yield();
                }
            }
            else
            {
                await PublishPacedAsync(events, rate, padding, started, cancellationToken).ConfigureAwait(false);
            }

            TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
            result.WriteStartObject();
            result.WriteNumber("published"u8, events);
            result.WriteNumber("subscribers"u8, subscribers);
            result.WriteNumber("elapsedMs"u8, Math.Round(elapsed.TotalMilliseconds, 3));
            result.WriteNumber("timestampFrequency"u8, Stopwatch.Frequency);
            result.WriteEndObject();
            return RpcInvokeResult.Success;
        }
        finally
        {
            _onePublisher.Release();
        }
    }

    /// <summary>
    /// Event i is due at <c>(i - 1) / rate</c> seconds after the start: every wake-up publishes the events
    /// due by then, so a rate above what the timer's resolution (about a millisecond) allows goes out in
    /// small bursts and the average rate still holds.
    /// </summary>
    private async Task PublishPacedAsync(int events, int rate, byte[]? padding, long started, CancellationToken cancellationToken)
    {
        long frequency = Stopwatch.Frequency;
        int published = 0;
        while (published < events)
        {
            long elapsed = Stopwatch.GetTimestamp() - started;
            long due = Math.Min(events, (long)((double)elapsed * rate / frequency) + 1);
            while (published < due)
            {
                published++;
                _topic.Publish(new BenchEvent(published, Stopwatch.GetTimestamp(), padding));
            }

            if (published < events)
            {
                // Until the next event is due, at least a millisecond (the timer's resolution).
                double nextDueSeconds = (double)published / rate;
                double waitMs = (nextDueSeconds - ((double)(Stopwatch.GetTimestamp() - started) / frequency)) * 1000;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, waitMs)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static void Write(Utf8JsonWriter json, BenchEvent value)
    {
        json.WriteStartObject();
        json.WriteNumber("i"u8, value.Index);
        json.WriteNumber("t"u8, value.Timestamp);
        if (value.Padding is byte[] padding)
        {
            json.WriteString("p"u8, padding);
        }

        json.WriteEndObject();
    }

    /// <summary><paramref name="size"/> bytes of ASCII, so the <c>p</c> string is that long on the wire.</summary>
    private static byte[] Padding(int size)
    {
        byte[] padding = new byte[size];
        padding.AsSpan().Fill((byte)'x');
        return padding;
    }

    private static ValueTask<RpcInvokeResult> InvalidParams(string param, RpcParamFailure failure) =>
        new(RpcInvokeResult.InvalidParams(param, failure));
}
