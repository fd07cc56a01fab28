namespace CameraRpc.Protocol;

/// <summary>What a subscription does when its client does not keep up (CONTRACT section 6, "Slow subscribers").</summary>
public enum RpcOverflow
{
    /// <summary>Only the newest unsent value is kept (state): an older unsent one is replaced. Capacity is 1.</summary>
    Coalesce,

    /// <summary>A bounded queue; when it is full the oldest unsent event goes.</summary>
    DropOldest,

    /// <summary>A bounded queue; when it is full the subscription ends with <c>overflow</c>.</summary>
    Close,
}

/// <summary>
/// Declares a topic clients can subscribe to with <c>rpc.subscribe</c>. The CameraRpc source generator
/// puts every topic of the assembly in its generated table, next to the methods.
/// </summary>
/// <remarks>
/// <para>Put it on either</para>
/// <list type="bullet">
/// <item>a static field or get-only property of type <see cref="RpcTopic{T}"/>: a <b>fed</b> topic, to
/// which any code publishes with <see cref="RpcTopic{T}.Publish"/>; the value is serialized once and the
/// same bytes go to every subscriber; or</item>
/// <item>a static method returning <see cref="IAsyncEnumerable{T}"/>: a <b>per-subscriber</b> topic,
/// run for each subscription with the subscription's params, bound exactly as a method's are, and a
/// <see cref="CancellationToken"/> cancelled when the subscription ends (unsubscribe, disconnect, shutdown).</item>
/// </list>
/// <para>Mistakes in the declaration are compile-time diagnostics (CRPC ids).</para>
/// </remarks>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class RpcTopicAttribute : Attribute
{
    /// <summary>The capacity of a topic that does not say.</summary>
    public const int DefaultCapacity = 16;

    /// <summary>The largest capacity a topic may declare (each subscription preallocates its slots).</summary>
    public const int MaxCapacity = 4096;

    /// <param name="name">The topic's name; events are notifications with this method name, e.g. <c>"camera.controls"</c>.</param>
    public RpcTopicAttribute(string name) => Name = name;

    /// <summary>The topic's name.</summary>
    public string Name { get; }

    /// <summary>Most unsent events one subscription holds (1 to <see cref="MaxCapacity"/>); a <see cref="RpcOverflow.Coalesce"/> topic holds one (leave it unset, or set 1).</summary>
    public int Capacity { get; set; } = DefaultCapacity;

    /// <summary>What happens when a subscriber does not keep up.</summary>
    public RpcOverflow Overflow { get; set; } = RpcOverflow.DropOldest;

    /// <summary>The scope a token needs to subscribe (CONTRACT section 8); null for none.</summary>
    public string? Scope { get; set; }

    /// <summary>One line for the <c>x-topics</c> entry of <c>rpc.discover</c>.</summary>
    public string? Summary { get; set; }
}
