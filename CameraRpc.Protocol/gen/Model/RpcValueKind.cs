namespace CameraRpc.Protocol.Generator;

/// <summary>
/// The closed set of C# types the generator can bind from <c>params</c> and write as a result. Each
/// kind maps to one <c>RpcParamsReader.TryRead…</c> call, one <c>RpcResultWriter</c> call and one
/// OpenRPC schema, so adding a kind means touching all three places.
/// </summary>
internal enum RpcValueKind
{
    String,
    Boolean,
    Byte,
    SByte,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Single,
    Double,
    Decimal,
    Enum,
    Array,
    JsonElement,
    RawJson,

    /// <summary>Any other type, read and written through the <c>JsonSerializerContext</c> named by <c>[RpcJsonContext]</c>.</summary>
    Complex,

    /// <summary>Supplied by the server from <c>RpcInvocation.CancellationToken</c>; never seen by the client.</summary>
    CancellationToken,

    /// <summary>Supplied by the server from <c>RpcInvocation.Context</c>; never seen by the client.</summary>
    Context,
}
