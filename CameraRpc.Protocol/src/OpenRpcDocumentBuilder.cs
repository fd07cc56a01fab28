using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>Assembles the OpenRPC 1.x document of a method table from each method's generated descriptor.</summary>
internal static class OpenRpcDocumentBuilder
{
    public const string OpenRpcVersion = "1.3.2";

    public static byte[] Build(RpcMethodTable table)
    {
        var buffer = new RpcResponseBuffer();
        Utf8JsonWriter json = buffer.StartJsonValue();
        json.WriteStartObject();
        json.WriteString("openrpc"u8, OpenRpcVersion);
        json.WriteStartObject("info"u8);
        json.WriteString("title"u8, table.Title);
        json.WriteString("version"u8, table.Version);
        json.WriteEndObject();
        json.WriteStartArray("methods"u8);
        foreach (RpcMethod method in table.Methods)
        {
            json.WriteRawValue(method.OpenRpcDescriptor.Span, skipInputValidation: false);
        }

        json.WriteEndArray();

        // CONTRACT section 3: topics go in an extension array, each entry written by the generator.
        json.WriteStartArray("x-topics"u8);
        foreach (RpcTopicInfo topic in table.Topics)
        {
            json.WriteRawValue(topic.OpenRpcDescriptor.Span, skipInputValidation: false);
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
