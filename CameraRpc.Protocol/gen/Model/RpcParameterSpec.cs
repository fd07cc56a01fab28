namespace CameraRpc.Protocol.Generator;

/// <summary>One parameter of an <c>[RpcMethod]</c> method.</summary>
/// <param name="Name">The C# name as written (without <c>@</c>); also the name clients use.</param>
/// <param name="Type">Its type; <see cref="RpcValueKind.CancellationToken"/> and <see cref="RpcValueKind.Context"/> are server-supplied.</param>
/// <param name="IsOptional">True when it has a C# default, so a client may leave it out.</param>
/// <param name="DefaultLiteral">The default as a C# expression, when <paramref name="IsOptional"/>.</param>
internal sealed record RpcParameterSpec(string Name, RpcTypeSpec Type, bool IsOptional, string? DefaultLiteral)
{
    /// <summary>True when the client supplies it (by position or by name).</summary>
    public bool IsClientVisible => Type.Kind is not (RpcValueKind.CancellationToken or RpcValueKind.Context);
}
