namespace CameraRpc.Protocol.Generator;

/// <summary>Where a topic's events come from.</summary>
internal enum RpcTopicKind
{
    /// <summary>A static <c>RpcTopic&lt;T&gt;</c> field or property that code publishes to.</summary>
    Fed,

    /// <summary>A static method returning <c>IAsyncEnumerable&lt;T&gt;</c>, run for each subscription.</summary>
    PerSubscriber,
}

/// <summary>One <c>[RpcTopic]</c> declaration that passed every check, as the emitter needs it.</summary>
/// <param name="Name">The topic's name.</param>
/// <param name="Summary">The <c>x-topics</c> summary, if given.</param>
/// <param name="Scope">The scope a token needs, if any.</param>
/// <param name="Capacity">Most unsent events per subscription (1 for coalesce).</param>
/// <param name="Overflow">The <c>RpcOverflow</c> member name: Coalesce, DropOldest or Close.</param>
/// <param name="Kind">Fed or per subscriber.</param>
/// <param name="ContainingTypeName">Fully qualified name of the declaring type.</param>
/// <param name="MemberName">The field, property or method name.</param>
/// <param name="Parameters">A per-subscriber topic's parameters in declaration order (empty for a fed topic).</param>
/// <param name="Value">The event value's type.</param>
internal sealed record RpcTopicSpec(
    string Name,
    string? Summary,
    string? Scope,
    int Capacity,
    string Overflow,
    RpcTopicKind Kind,
    string ContainingTypeName,
    string MemberName,
    EquatableArray<RpcParameterSpec> Parameters,
    RpcTypeSpec Value);

/// <summary>Everything one compilation's topics are made from.</summary>
/// <param name="Namespace">The namespace of the generated class.</param>
/// <param name="Topics">The topics, ordinal-sorted by name, each name once.</param>
internal sealed record RpcTopicTableSpec(string Namespace, EquatableArray<RpcTopicSpec> Topics);
