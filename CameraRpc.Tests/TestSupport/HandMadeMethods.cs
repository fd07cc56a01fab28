using System.Text.Json;
using CameraRpc.Protocol;

namespace CameraRpc.Tests.TestSupport;

/// <summary>
/// Methods built by hand around an invoker delegate, for engine tests that need a handler to behave
/// in a particular way (throw, block, count) without going through the generator.
/// </summary>
public static class HandMadeMethods
{
    /// <summary>A method whose handler does <paramref name="run"/> and then writes <paramref name="result"/> as a string.</summary>
    public static RpcMethod Sync(string name, Action run, string result = "ok") =>
        new(name, invocation =>
        {
            run();
            invocation.Result.WriteStringValue(result);
            return new ValueTask<RpcInvokeResult>(RpcInvokeResult.Success);
        }, $"{{\"name\":\"{name}\",\"params\":[],\"result\":{{\"name\":\"result\",\"schema\":{{}}}}}}");

    /// <summary>A method that waits for <paramref name="gate"/> before answering <paramref name="result"/>.</summary>
    public static RpcMethod Gated(string name, Task gate, string result = "done") =>
        new(name, async invocation =>
        {
            await gate.WaitAsync(invocation.CancellationToken);
            invocation.Result.WriteStringValue(result);
            return RpcInvokeResult.Success;
        }, $"{{\"name\":\"{name}\",\"params\":[],\"result\":{{\"name\":\"result\",\"schema\":{{}}}}}}");

    /// <summary>A method that throws <paramref name="exception"/> after writing part of a result.</summary>
    public static RpcMethod Throwing(string name, Exception exception) =>
        new(name, invocation =>
        {
            invocation.Result.WriteStartObject();
            invocation.Result.WriteString("partial", "value");
            throw exception;
        }, $"{{\"name\":\"{name}\",\"params\":[],\"result\":{{\"name\":\"result\",\"schema\":{{}}}}}}");

    public static RpcMethodTable With(params RpcMethod[] methods) =>
        RpcMethodTable.Combine(BuiltInRpcMethods.Table, new RpcMethodTable(methods));

    public static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
