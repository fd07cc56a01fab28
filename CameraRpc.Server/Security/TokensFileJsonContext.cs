using System.Text.Json.Serialization;

namespace CameraRpc.Server.Security;

/// <summary>The shape of <c>--tokens-file</c>: <c>{"tokens":[{"name","sha256","scopes":[…]}]}</c>.</summary>
internal sealed class TokensFileModel
{
    [JsonPropertyName("tokens")]
    public List<TokenEntryModel>? Tokens { get; set; }
}

/// <summary>One entry of <c>--tokens-file</c>.</summary>
internal sealed class TokenEntryModel
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("sha256")]
    public string? Sha256 { get; set; }

    [JsonPropertyName("scopes")]
    public List<string>? Scopes { get; set; }
}

/// <summary>Source-generated (AOT) reader of <c>--tokens-file</c>; an unknown member is an error, so a typo ("scope") is caught.</summary>
[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
[JsonSerializable(typeof(TokensFileModel))]
internal sealed partial class TokensFileJsonContext : JsonSerializerContext;
