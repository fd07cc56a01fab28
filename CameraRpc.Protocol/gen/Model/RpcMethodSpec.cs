namespace CameraRpc.Protocol.Generator;

/// <summary>How a method hands back its result.</summary>
internal enum RpcReturnShape
{
    Void,
    Value,
    Task,
    TaskOfT,
    ValueTask,
    ValueTaskOfT,
}

/// <summary>One <c>[RpcMethod]</c> method that passed every check, as the emitter needs it.</summary>
/// <param name="RpcName">The JSON-RPC name clients call.</param>
/// <param name="Summary">The OpenRPC summary, if given.</param>
/// <param name="ContainingTypeName">Fully qualified name of the declaring type.</param>
/// <param name="MethodName">The C# method name.</param>
/// <param name="Parameters">All parameters in declaration order, server-supplied ones included.</param>
/// <param name="ReturnShape">Synchronous, void or awaitable.</param>
/// <param name="Result">The type of the result value; null for void, <c>Task</c> and <c>ValueTask</c>.</param>
/// <param name="Scope">The scope a token needs to call the method (<c>Scope = …</c>); null when open to every valid token.</param>
/// <param name="Cost">How many calls one call counts as against rate limits (<c>Cost = …</c>, default 1).</param>
internal sealed record RpcMethodSpec(
    string RpcName,
    string? Summary,
    string ContainingTypeName,
    string MethodName,
    EquatableArray<RpcParameterSpec> Parameters,
    RpcReturnShape ReturnShape,
    RpcTypeSpec? Result,
    string? Scope = null,
    int Cost = 1);
