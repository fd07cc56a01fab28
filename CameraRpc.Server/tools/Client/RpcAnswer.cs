using System.Text.Json;

namespace CameraRpc.Server.Tools.Client;

/// <summary>One message the server sent back: its exact text and the parsed JSON.</summary>
internal sealed class RpcAnswer
{
    private RpcAnswer(string text, JsonElement root)
    {
        Text = text;
        Root = root;
    }

    /// <summary>The message as the server sent it.</summary>
    public string Text { get; }

    /// <summary>The parsed message (a detached clone: nothing to dispose).</summary>
    public JsonElement Root { get; }

    /// <summary>True when the answer is an object with a <c>result</c> member.</summary>
    public bool IsResult => Root.ValueKind == JsonValueKind.Object && Root.TryGetProperty("result"u8, out _);

    /// <summary>True when the answer is an object with an <c>error</c> member.</summary>
    public bool IsError => Root.ValueKind == JsonValueKind.Object && Root.TryGetProperty("error"u8, out _);

    /// <summary>The <c>result</c> member, or <see langword="default"/> when there is none.</summary>
    public JsonElement Result =>
        Root.ValueKind == JsonValueKind.Object && Root.TryGetProperty("result"u8, out JsonElement result) ? result : default;

    /// <summary>The <c>error</c> member, or <see langword="default"/> when there is none.</summary>
    public JsonElement Error =>
        Root.ValueKind == JsonValueKind.Object && Root.TryGetProperty("error"u8, out JsonElement error) ? error : default;

    /// <summary><c>error.code</c> when it is an integer.</summary>
    public int? ErrorCode =>
        Error.ValueKind == JsonValueKind.Object
        && Error.TryGetProperty("code"u8, out JsonElement code)
        && code.ValueKind == JsonValueKind.Number
        && code.TryGetInt32(out int value)
            ? value
            : null;

    /// <summary>Parses a message; <see langword="null"/> when it is not JSON.</summary>
    public static RpcAnswer? TryParse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            return new RpcAnswer(System.Text.Encoding.UTF8.GetString(utf8), document.RootElement.Clone());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The JSON of <paramref name="element"/>, compact or indented.</summary>
    public static string Format(JsonElement element, bool indented)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            element.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
