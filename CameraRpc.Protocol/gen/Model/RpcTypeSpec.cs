namespace CameraRpc.Protocol.Generator;

/// <summary>A bindable type: its kind and what the emitter needs to name it in C# and describe it in OpenRPC.</summary>
/// <param name="Kind">How it is read and written.</param>
/// <param name="TypeName">Fully qualified C# name without a top-level <c>?</c> (for <c>int?</c> this is <c>int</c>).</param>
/// <param name="IsNullable">True for <c>Nullable&lt;T&gt;</c> and for reference types that accept <c>null</c>.</param>
/// <param name="IsValueType">True for structs and enums.</param>
/// <param name="Element">The element type of an array.</param>
/// <param name="EnumMembers">The member names of an enum, in declaration order.</param>
/// <param name="RuntimeTypeName">For <see cref="RpcValueKind.Complex"/>: the name usable in <c>typeof</c> (no nullable annotations).</param>
/// <param name="JsonContextTypeName">For <see cref="RpcValueKind.Complex"/>: the <c>JsonSerializerContext</c> that describes it.</param>
internal sealed record RpcTypeSpec(
    RpcValueKind Kind,
    string TypeName,
    bool IsNullable,
    bool IsValueType,
    RpcTypeSpec? Element,
    EquatableArray<string> EnumMembers,
    string? RuntimeTypeName,
    string? JsonContextTypeName)
{
    /// <summary>The C# type as declared in generated code, e.g. <c>int?</c>, <c>string?</c>, <c>global::N.E[]</c>.</summary>
    public string DeclaredName => IsNullable ? TypeName + "?" : TypeName;

    /// <summary>True when a JSON <c>null</c> must be refused (a non-nullable reference type).</summary>
    public bool RefusesNull => !IsNullable && !IsValueType;

    /// <summary>Whether this is <c>Nullable&lt;T&gt;</c>, whose null check happens before the underlying read.</summary>
    public bool IsNullableValueType => IsNullable && IsValueType;
}
