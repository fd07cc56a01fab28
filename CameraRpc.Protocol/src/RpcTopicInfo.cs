using System.Buffers;
using System.Text;
using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// One entry of a topic table: the name clients subscribe to, its bound and overflow policy, the scope
/// it needs, its <c>x-topics</c> description, and where its events come from.
/// </summary>
/// <remarks>
/// Instances are made by generated code, once, at type initialisation (or by a server for a topic of
/// its own, such as <c>server.stats</c>); they are immutable.
/// </remarks>
public sealed class RpcTopicInfo
{
    /// <param name="name">The topic's name (the method name of its events).</param>
    /// <param name="capacity">Most unsent events one subscription holds; 1 for <see cref="RpcOverflow.Coalesce"/>.</param>
    /// <param name="overflow">What a subscription does when its client does not keep up.</param>
    /// <param name="scope">The scope a token needs to subscribe; null for none.</param>
    /// <param name="openRpcDescriptor">The <c>x-topics</c> entry for <c>rpc.discover</c>, as JSON text.</param>
    /// <param name="source">Where the events come from: an <see cref="RpcTopic{T}"/> or an <see cref="RpcStreamTopic"/>.</param>
    public RpcTopicInfo(string name, int capacity, RpcOverflow overflow, string? scope, string openRpcDescriptor, RpcTopicSource source)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, RpcTopicAttribute.MaxCapacity);
        ArgumentNullException.ThrowIfNull(openRpcDescriptor);
        ArgumentNullException.ThrowIfNull(source);
        Name = name;
        Utf8Name = Encoding.UTF8.GetBytes(name);
        Capacity = overflow == RpcOverflow.Coalesce ? 1 : capacity;
        Overflow = overflow;
        Scope = scope;
        OpenRpcDescriptor = Encoding.UTF8.GetBytes(openRpcDescriptor);
        EventPrefix = BuildEventPrefix(name);
        Source = source;
        source.Attach(this);
    }

    /// <summary>
    /// What every event of the topic starts with, up to its subscription id:
    /// <c>{"jsonrpc":"2.0","method":NAME,"params":{"subscription":"</c>. Shared by all its subscriptions,
    /// so an idle subscription holds no message bytes of its own.
    /// </summary>
    internal byte[] EventPrefix { get; }

    private static byte[] BuildEventPrefix(string name)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + name.Length);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString(JsonRpcNames.JsonRpc, JsonRpcNames.Version);
            json.WriteString(JsonRpcNames.Method, name);
            json.WriteStartObject(JsonRpcNames.Params);
            json.WriteString("subscription"u8, ""u8);
        }

        // The writer closed the empty id string; the prefix stops right after its opening quote.
        return buffer.WrittenSpan[..^1].ToArray();
    }

    /// <summary>The topic's name; its events are notifications with this method name.</summary>
    public string Name { get; }

    /// <summary>The name as UTF-8, which is what lookups compare.</summary>
    public ReadOnlyMemory<byte> Utf8Name { get; }

    /// <summary>Most unsent events one subscription holds.</summary>
    public int Capacity { get; }

    /// <summary>What a subscription does when its client does not keep up.</summary>
    public RpcOverflow Overflow { get; }

    /// <summary>
    /// The scope a token needs to subscribe (CONTRACT section 8), or null; <c>rpc.subscribe</c> checks it
    /// with <see cref="RpcContext.HasScope"/>, as the dispatcher checks a method's.
    /// </summary>
    public string? Scope { get; }

    /// <summary>The <c>x-topics</c> entry as UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> OpenRpcDescriptor { get; }

    /// <summary>Where the events come from.</summary>
    public RpcTopicSource Source { get; }

    /// <summary>The overflow policy as <c>rpc.discover</c> and the docs spell it.</summary>
    public string OverflowName => OverflowText(Overflow);

    /// <summary><c>coalesce</c>, <c>drop-oldest</c> or <c>close</c>.</summary>
    public static string OverflowText(RpcOverflow overflow) => overflow switch
    {
        RpcOverflow.Coalesce => "coalesce",
        RpcOverflow.DropOldest => "drop-oldest",
        _ => "close",
    };

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>Where a topic's events come from: a fed <see cref="RpcTopic{T}"/> or a per-subscriber <see cref="RpcStreamTopic"/>.</summary>
public abstract class RpcTopicSource
{
    private protected RpcTopicSource()
    {
    }

    /// <summary>The table entry this source belongs to; set once, when the entry is made.</summary>
    internal RpcTopicInfo? Info { get; private set; }

    internal void Attach(RpcTopicInfo info)
    {
        if (Info is not null && !ReferenceEquals(Info, info))
        {
            throw new InvalidOperationException($"This topic source already belongs to the topic '{Info.Name}'.");
        }

        Info = info;
    }

    /// <summary>
    /// Starts feeding a new subscription (still inactive: its events wait until its answer is queued).
    /// <paramref name="invocation"/> carries the subscription's params; a param that does not bind is
    /// the returned failure, and then nothing was started.
    /// </summary>
    internal abstract ValueTask<RpcInvokeResult> OpenAsync(RpcSubscription subscription, RpcInvocation invocation);

    /// <summary>Stops feeding a subscription that ended or was unsubscribed; idempotent.</summary>
    internal abstract void Close(RpcSubscription subscription);
}
