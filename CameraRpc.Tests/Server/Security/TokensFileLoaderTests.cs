using System.Text;
using CameraRpc.Server.Security;

namespace CameraRpc.Tests.Server.Security;

/// <summary>Reading <c>--tokens-file</c>: the shape of contract §8 and one clear line per mistake.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class TokensFileLoaderTests
{
    private static readonly string s_viewerHash = Convert.ToHexStringLower(TokenSet.Hash("viewer-secret"));
    private static readonly string s_operatorHash = Convert.ToHexStringLower(TokenSet.Hash("operator-secret"));

    private static bool Parse(string json, out TokenSet? tokens, out string? error) =>
        TokensFileLoader.TryParse("tokens.json", Encoding.UTF8.GetBytes(json), out tokens, out error);

    [Test]
    public void a_valid_file_gives_each_token_its_name_and_scopes()
    {
        bool ok = Parse($$"""
            {"tokens":[
              {"name":"wall-display","sha256":"{{s_viewerHash}}","scopes":["camera.read"]},
              {"name":"operator","sha256":"{{s_operatorHash.ToUpperInvariant()}}","scopes":["camera.read","camera.write"]}
            ]}
            """, out TokenSet? tokens, out string? error);

        ok.Should().BeTrue(error);
        TokenIdentity viewer = tokens!.Find("viewer-secret")!;
        viewer.Name.Should().Be("wall-display");
        viewer.HasScope("camera.read").Should().BeTrue();
        viewer.HasScope("camera.write").Should().BeFalse("the viewer was not given it");
        tokens.Find("operator-secret")!.HasScope("camera.write").Should().BeTrue("upper-case hex is hex too");
    }

    [Test]
    public void an_unknown_token_a_prefix_of_one_and_an_empty_one_find_nobody()
    {
        Parse($$"""{"tokens":[{"name":"v","sha256":"{{s_viewerHash}}","scopes":[]}]}""", out TokenSet? tokens, out _).Should().BeTrue();
        tokens!.Find("viewer-secre").Should().BeNull();
        tokens.Find("viewer-secret ").Should().BeNull();
        tokens.Find("").Should().BeNull();
        tokens.Find(new string('x', TokenSet.MaxTokenLength + 1)).Should().BeNull("an oversized token is refused before hashing");
    }

    [Test]
    public void the_auth_token_joins_the_set_with_every_scope_under_its_own_name()
    {
        TokenSet tokens = TokenSet.Empty.WithAuthToken("s3cret");
        TokenIdentity identity = tokens.Find("s3cret")!;
        identity.Name.Should().Be("auth-token", "the log names the token, never shows it");
        identity.HasScope("camera.write").Should().BeTrue();
        identity.HasScope("anything.at.all").Should().BeTrue();
    }

    [TestCase("{\"tokens\":[", "tokens file 'tokens.json' is not valid")]
    [TestCase("not json", "tokens file 'tokens.json' is not valid")]
    [TestCase("{}", "tokens file 'tokens.json' has no \"tokens\" array")]
    [TestCase("[]", "tokens file 'tokens.json' is not valid")]
    [TestCase("{\"tokens\":[{\"name\":\"a\",\"sha256\":\"abc\",\"scopes\":[]}]}", "tokens file 'tokens.json': token 'a' has a sha256 that is not 64 hex digits")]
    [TestCase("{\"tokens\":[{\"name\":\"a\",\"sha256\":\"zz00000000000000000000000000000000000000000000000000000000000000\"}]}", "tokens file 'tokens.json': token 'a' has a sha256 that is not 64 hex digits")]
    [TestCase("{\"tokens\":[{\"sha256\":\"00\"}]}", "tokens file 'tokens.json': token 1 has no name")]
    [TestCase("{\"tokens\":[{\"name\":\"a\",\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"scope\":[\"x\"]}]}", "tokens file 'tokens.json' is not valid at $.tokens[0].scope")]
    [TestCase("{\"tokens\":[{\"name\":\"a\",\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"scopes\":[\"\"]}]}", "tokens file 'tokens.json': token 'a' has an empty scope")]
    public void a_broken_file_is_one_line_naming_the_file_and_the_mistake(string json, string expected)
    {
        Parse(json, out TokenSet? tokens, out string? error).Should().BeFalse();
        tokens.Should().BeNull();
        error.Should().StartWith(expected).And.NotContain("\n", "a startup failure is one line");
    }

    [Test]
    public void a_name_given_twice_is_refused()
    {
        Parse($$"""{"tokens":[{"name":"a","sha256":"{{s_viewerHash}}"},{"name":"a","sha256":"{{s_operatorHash}}"}]}""", out _, out string? error).Should().BeFalse();
        error.Should().Be("tokens file 'tokens.json': the name 'a' is given twice");
    }

    [Test]
    public void one_hash_under_two_names_is_refused()
    {
        Parse($$"""{"tokens":[{"name":"a","sha256":"{{s_viewerHash}}"},{"name":"b","sha256":"{{s_viewerHash.ToUpperInvariant()}}"}]}""", out _, out string? error).Should().BeFalse();
        error.Should().Be("tokens file 'tokens.json': tokens 'a' and 'b' have the same sha256");
    }

    [Test]
    public void a_missing_file_is_one_line_naming_it()
    {
        string path = Path.Combine(Path.GetTempPath(), "camerarpc-no-such-tokens-" + Guid.NewGuid().ToString("N") + ".json");
        TokensFileLoader.TryLoad(path, out _, out string? error).Should().BeFalse();
        error.Should().Be($"cannot read tokens file '{path}': no such file or folder");
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void a_file_readable_by_other_users_is_noticed()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            TokensFileLoader.IsReadableByOthers(path).Should().BeFalse();
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            TokensFileLoader.IsReadableByOthers(path).Should().BeTrue();
        }
        finally
        {
            File.Delete(path);
        }
    }
}
