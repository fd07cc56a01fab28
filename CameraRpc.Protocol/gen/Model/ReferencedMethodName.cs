namespace CameraRpc.Protocol.Generator;

/// <summary>A method name of another assembly's generated table, read from its <c>[assembly: RpcMethodNames]</c>.</summary>
/// <param name="Name">The JSON-RPC method name.</param>
/// <param name="Assembly">The assembly whose table has it.</param>
internal sealed record ReferencedMethodName(string Name, string Assembly);
