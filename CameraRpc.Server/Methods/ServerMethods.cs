using CameraRpc.Protocol;

namespace CameraRpc.Server.Methods;

/// <summary>
/// The methods this executable serves: the built-ins (<c>ping</c>, <c>echo</c>, <c>rpc.discover</c>)
/// and every <c>[RpcMethod]</c> added to this project (camera methods go here).
/// </summary>
internal static class ServerMethods
{
    public static RpcMethodTable Create() => RpcMethodTable.Combine(BuiltInRpcMethods.Table, GeneratedRpcMethods.Table);
}
