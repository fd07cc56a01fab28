using CameraRpc.Protocol;
using System.Text.Json;

namespace CameraRpc.Tests.Hardening.Support;

/// <summary>
/// What the contract (CONTRACT section 3) requires the server to answer to one WebSocket message, worked
/// out independently of the server: the message is read with <see cref="JsonDocument"/> and the rules are
/// applied to it, for a server whose methods are the built-ins (<c>ping</c>, <c>echo</c>,
/// <c>rpc.discover</c>). For a fuzz test: whatever the mutation made of a message, the answer is known.
/// </summary>
public static class ContractOracle
{
    public const string ParseError = """{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}""";

    private static readonly JsonDocumentOptions s_strict = new()
    {
        MaxDepth = RpcEnvelopeReader.MaxDepth,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    /// <summary>
    /// The answer frame a message must get: null when it must get none (notifications only); otherwise
    /// its answer objects, and whether they come as a batch's array.
    /// </summary>
    public static ExpectedFrame? For(byte[] message)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message, s_strict);
        }
        catch (JsonException)
        {
            return new ExpectedFrame(false, [ExpectedAnswer.Exactly(ParseError, "not JSON: -32700")]);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                return For(root) is { } single ? new ExpectedFrame(false, [single]) : null;
            }

            if (root.GetArrayLength() == 0)
            {
                return new ExpectedFrame(false, [ExpectedAnswer.Exactly(InvalidRequest("null"), "an empty batch: one -32600")]);
            }

            List<ExpectedAnswer> answers = root.EnumerateArray().Select(For).OfType<ExpectedAnswer>().ToList();
            return answers.Count == 0 ? null : new ExpectedFrame(true, answers);
        }
    }

    /// <summary>The answer to one request object (alone or in a batch); null for a notification.</summary>
    private static ExpectedAnswer? For(JsonElement request)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            return ExpectedAnswer.Exactly(InvalidRequest("null"), "not a request object: -32600");
        }

        // The four envelope members, by their unescaped names; any of them twice makes the request invalid.
        var members = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
        foreach (JsonProperty property in request.EnumerateObject())
        {
            foreach (string name in new[] { "jsonrpc", "method", "params", "id" })
            {
                if (NameIs(property, name))
                {
                    (members.TryGetValue(name, out List<JsonElement>? seen) ? seen : members[name] = []).Add(property.Value);
                }
            }
        }

        List<JsonElement> ids = members.GetValueOrDefault("id") ?? [];
        bool hasId = ids.Count > 0;
        string id = ids.Count == 1 && ids[0].ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null
            ? ids[0].GetRawText()
            : "null";
        bool valid =
            members.Values.All(m => m.Count == 1)
            && members.GetValueOrDefault("jsonrpc") is [{ ValueKind: JsonValueKind.String } version] && TextIs(version, "2.0")
            && members.GetValueOrDefault("method") is [{ ValueKind: JsonValueKind.String }]
            && (members.GetValueOrDefault("params") is null or [{ ValueKind: JsonValueKind.Array or JsonValueKind.Object }])
            && (!hasId || id != "null" || ids[0].ValueKind == JsonValueKind.Null);
        if (!valid)
        {
            return ExpectedAnswer.Exactly(InvalidRequest(id), "not a valid request: -32600, always answered");
        }

        if (!hasId)
        {
            return null; // a notification is never answered, not even with an error
        }

        JsonElement? @params = members.GetValueOrDefault("params") is [var p] ? p : null;
        string? method = TryGetString(members["method"][0]);
        switch (method)
        {
            case "ping":
                bool none = @params is null || (@params.Value.ValueKind == JsonValueKind.Array ? @params.Value.GetArrayLength() == 0 : !@params.Value.EnumerateObject().Any());
                return none
                    ? ExpectedAnswer.Exactly($$"""{"jsonrpc":"2.0","result":"pong","id":{{id}}}""", "ping: pong")
                    : ExpectedAnswer.Error(-32602, id, "ping takes no parameters: -32602");

            case "echo":
                JsonElement[] given = @params is null ? []
                    : @params.Value.ValueKind == JsonValueKind.Array ? @params.Value.EnumerateArray().ToArray()
                    : @params.Value.EnumerateObject().All(m => NameIs(m, "message")) ? @params.Value.EnumerateObject().Select(m => m.Value).ToArray()
                    : [default, default]; // a name other than "message": unexpected
                return given.Length == 1
                    ? ExpectedAnswer.Exactly($$"""{"jsonrpc":"2.0","result":{{given[0].GetRawText()}},"id":{{id}}}""", "echo: its message, byte for byte")
                    : ExpectedAnswer.Error(-32602, id, "echo takes exactly one parameter, message: -32602");

            case "rpc.discover":
                return ExpectedAnswer.Any(id, "rpc.discover");

            default:
                return ExpectedAnswer.Error(-32601, id, "no such method: -32601");
        }
    }

    private static string InvalidRequest(string id) => $$"""{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":{{id}}}""";

    /// <summary>Name comparison after unescaping; a name whose escapes are not text (<c>"\ud800"</c>) is no envelope member.</summary>
    private static bool NameIs(JsonProperty property, string name)
    {
        try
        {
            return property.NameEquals(name);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool TextIs(JsonElement value, string text) => TryGetString(value) == text;

    private static string? TryGetString(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null; // "\ud800": JSON, but not text; equal to no name
        }
    }
}

/// <summary>The answer frame for one message: its answer objects, as a batch's array or alone.</summary>
public sealed record ExpectedFrame(bool IsBatch, IReadOnlyList<ExpectedAnswer> Answers);

/// <summary>One answer object: its exact text, or its error code and id when the text is not fixed by the contract.</summary>
public sealed record ExpectedAnswer(string? Text, int? Code, string Id, string Why)
{
    public static ExpectedAnswer Exactly(string text, string why) => new(text, null, string.Empty, why);

    public static ExpectedAnswer Error(int code, string id, string why) => new(null, code, id, why);

    public static ExpectedAnswer Any(string id, string why) => new(null, null, id, why);

    /// <summary>Asserts that <paramref name="answer"/> is this answer.</summary>
    public void Check(JsonElement answer, string context)
    {
        if (Text is not null)
        {
            answer.GetRawText().Should().Be(Text, $"{Why} ({context})");
            return;
        }

        answer.GetProperty("jsonrpc").GetString().Should().Be("2.0");
        answer.GetProperty("id").GetRawText().Should().Be(Id, $"the id is echoed byte for byte ({context})");
        if (Code is { } code)
        {
            answer.GetProperty("error").GetProperty("code").GetInt32().Should().Be(code, $"{Why} ({context})");
        }
        else
        {
            answer.TryGetProperty("result", out _).Should().BeTrue($"{Why} ({context})");
        }
    }
}
