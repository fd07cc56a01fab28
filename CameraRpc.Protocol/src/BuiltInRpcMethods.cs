namespace CameraRpc.Protocol;

/// <summary>
/// The methods every CameraRpc server has (contract section 3, "Built-in methods"). They go through
/// the same source generator as any user's method, so they double as its first consumer.
/// </summary>
public static partial class BuiltInRpcMethods
{
    /// <summary>
    /// The table of <c>ping</c>, <c>echo</c>, <c>rpc.discover</c>, <c>rpc.subscribe</c>, <c>rpc.unsubscribe</c>
    /// and <c>$/cancelRequest</c>; combine it with a server's own.
    /// </summary>
    public static RpcMethodTable Table { get; } = RpcMethodTable.Combine(GeneratedRpcMethods.Table, new RpcMethodTable(EngineMethods()));

    [RpcMethod("ping", Summary = "Health check: answers \"pong\".")]
    public static string Ping(RpcContext context)
    {
        if (context.Logger.IsEnabled(RpcLogLevel.Info))
        {
            context.Logger.Log(RpcLogLevel.Info, "Ping method called");
        }

        return "pong";
    }

    [RpcMethod("echo", Summary = "Answers with its message parameter, unchanged.")]
    public static RpcRawJson Echo(RpcRawJson message) => message;

    // The document covers the dispatcher's whole table, not just these built-ins, so it is read from
    // the context; the bytes were produced by the engine itself, so they skip validation when written.
    [RpcMethod("rpc.discover", Summary = "The OpenRPC document of every method this server has.")]
    public static RpcRawJson Discover(RpcContext context) => new(context.Methods.OpenRpcDocument, trusted: true);
}
