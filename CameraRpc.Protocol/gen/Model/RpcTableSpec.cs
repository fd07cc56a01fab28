namespace CameraRpc.Protocol.Generator;

/// <summary>Everything one compilation's <c>GeneratedRpcMethods</c> is made from.</summary>
/// <param name="Namespace">The namespace of the generated class (the assembly name made a valid identifier).</param>
/// <param name="Methods">The methods, ordinal-sorted by RPC name, each name once.</param>
internal sealed record RpcTableSpec(string Namespace, EquatableArray<RpcMethodSpec> Methods);
