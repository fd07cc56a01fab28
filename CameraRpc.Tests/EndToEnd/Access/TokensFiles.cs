using System.Text;
using CameraRpc.Server.Security;

namespace CameraRpc.Tests.EndToEnd.Access;

/// <summary>Tokens files for the tests: the camera example's viewer and operator, written private (mode 600).</summary>
internal static class TokensFiles
{
    public const string ViewerToken = "viewer-token-4f1c2e";
    public const string OperatorToken = "operator-token-9b7d10";

    public static string Entry(string name, string token, params string[] scopes) =>
        $$"""{"name":"{{name}}","sha256":"{{Convert.ToHexStringLower(TokenSet.Hash(token))}}","scopes":[{{string.Join(',', scopes.Select(s => "\"" + s + "\""))}}]}""";

    public static string Camera(string viewerScopes = "camera.read") =>
        "{\"tokens\":[" + Entry("wall-display", ViewerToken, viewerScopes.Split(',', StringSplitOptions.RemoveEmptyEntries)) + ","
        + Entry("operator-console", OperatorToken, "camera.read", "camera.write", "server.read") + "]}";

    /// <summary>Writes <paramref name="json"/> to a new private temporary file and returns its path.</summary>
    public static string Write(string json, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        string path = Path.Combine(Path.GetTempPath(), "camerarpc-tokens-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json, new UTF8Encoding(false));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }

        return path;
    }

    /// <summary>Replaces the file's contents in place (as an operator's editor would) before a SIGHUP.</summary>
    public static void Rewrite(string path, string json) => File.WriteAllText(path, json, new UTF8Encoding(false));

    public static Dictionary<string, string> Bearer(string token) => new() { ["Authorization"] = "Bearer " + token };
}
