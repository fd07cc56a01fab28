using System.Text.Json;
using System.Text.Json.Serialization;
using CameraRpc.Protocol;

namespace CameraRpc.Tests.Generator.TestMethods;

/// <summary>A record bound through a <see cref="JsonSerializerContext"/>, as contract section 3 requires for non-primitive types.</summary>
public sealed record TestCameraSettings(string Name, double Exposure, TestExposureMode Mode);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(TestCameraSettings))]
internal sealed partial class TestJsonContext : JsonSerializerContext;

/// <summary>[RpcMethod] fixtures that need the serializer context, plus raw JSON values.</summary>
[RpcJsonContext(typeof(TestJsonContext))]
internal static class ComplexRpcMethods
{
    [RpcMethod("test.complex")]
    public static TestCameraSettings Brighten(TestCameraSettings settings, double factor = 2) =>
        settings with { Exposure = settings.Exposure * factor };

    [RpcMethod("test.complexMany")]
    public static async Task<TestCameraSettings[]> Named(TestCameraSettings?[] settings)
    {
        await Task.Yield();
        return settings.Select(s => s ?? new TestCameraSettings("default", 1, TestExposureMode.Auto)).ToArray();
    }

    [RpcMethod("test.element")]
    public static JsonValueKind Kind(JsonElement value) => value.ValueKind;
}
