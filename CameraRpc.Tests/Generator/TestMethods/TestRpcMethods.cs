using CameraRpc.Protocol;

namespace CameraRpc.Tests.Generator.TestMethods;

/// <summary>How a camera chooses its exposure; an enum for the binding tests.</summary>
public enum TestExposureMode
{
    Auto,
    Manual,
    Shutter,
}

/// <summary>[RpcMethod] fixtures for primitives, defaults, enums, arrays, nullables, async and errors.</summary>
internal static class TestRpcMethods
{
    [RpcMethod("test.add", Summary = "Adds two integers.")]
    public static int Add(int a, int b) => a + b;

    [RpcMethod("test.greet")]
    public static string Greet(string name, string greeting = "Hello \"friend\"", int times = 1) =>
        string.Join(" ", Enumerable.Repeat(greeting + ", " + name + "!", times));

    [RpcMethod("test.delay")]
    public static async Task<int> DelayAsync(int milliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken).ConfigureAwait(false);
        return milliseconds;
    }

    [RpcMethod("test.delayValue")]
    public static async ValueTask DelayValueAsync(int milliseconds, CancellationToken cancellationToken) =>
        await Task.Delay(milliseconds, cancellationToken).ConfigureAwait(false);

    [RpcMethod("test.fail")]
    public static void Fail(string reason) => throw new RpcException(-32050, "Camera failed: " + reason);

    [RpcMethod("test.enum")]
    public static TestExposureMode NextMode(TestExposureMode mode, TestExposureMode? fallback = TestExposureMode.Manual) =>
        mode == TestExposureMode.Shutter ? fallback ?? TestExposureMode.Auto : mode + 1;

    [RpcMethod("test.array")]
    public static int[] Scale(int[] values, double[]? factors = null, string?[]? labels = null) =>
        values.Select((v, i) => (int)(v * (factors is null ? 2 : factors[i]))).Concat(labels is null ? [] : [labels.Length]).ToArray();

    [RpcMethod("test.nullable")]
    public static int?[] Nullable(int? count, string? label, bool? flag = null) =>
        [count, label?.Length, flag is null ? null : flag.Value ? 1 : 0];

    [RpcMethod("test.void")]
    public static void Nothing()
    {
    }

    [RpcMethod("test.numbers")]
    public static decimal Sum(byte b, sbyte sb, short s, ushort us, uint ui, long l, ulong ul, float f, decimal d) =>
        b + sb + s + us + ui + l + (decimal)ul + (decimal)f + d;

    [RpcMethod("test.context")]
    public static long ConnectionId(RpcContext context, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? -1 : context.ConnectionId;
}
