using CameraRpc.Protocol;

namespace CameraRpc.Tests.Generator.TestMethods;

/// <summary>[RpcMethod] fixtures that declare a scope and a cost (contract section 8), a viewer's and an operator's.</summary>
internal static class AccessRpcMethods
{
    [RpcMethod("access.getExposure", Summary = "Reads the exposure.", Scope = "camera.read")]
    public static double GetExposure() => 1.5;

    [RpcMethod("access.setExposure", Scope = "camera.write", Cost = 5)]
    public static double SetExposure(double value) => value;

    [RpcMethod("access.open")]
    public static string Open() => "open";
}
