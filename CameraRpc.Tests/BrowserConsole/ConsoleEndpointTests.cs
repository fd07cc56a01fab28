using System.Text.RegularExpressions;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.BrowserConsole;

/// <summary>
/// How the executable serves the console's page and assets (CONTRACT section 9): the security headers,
/// caching, HEAD, <c>--path</c> in the page, <c>--console off</c>. Plain HTTP, no browser needed.
/// </summary>
[NonParallelizable]
public sealed partial class ConsoleEndpointTests : SharedServerFixture
{
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static readonly string[] s_paths = ["/", "/console/console.css", "/console/console.js"];

    protected override string[] ServerArguments => ["--path", "/rpc"];

    [TestCase("/", "text/html; charset=utf-8")]
    [TestCase("/console/console.css", "text/css; charset=utf-8")]
    [TestCase("/console/console.js", "text/javascript; charset=utf-8")]
    [CancelAfter(30_000)]
    public async Task the_page_and_its_assets_carry_the_security_headers(string path, string contentType, CancellationToken cancellationToken)
    {
        HttpAnswer answer = await HttpExchange.GetAsync(Server.HttpUri(path), cancellationToken);

        answer.Status.Should().Be(200);
        answer.ContentType.Should().Be(contentType);
        answer.Headers.GetValues("Content-Security-Policy").Should().Equal([ContentSecurityPolicy], "scripts and styles from this origin only, no inline code, no framing, connections to this origin only");
        answer.Headers.GetValues("X-Content-Type-Options").Should().Equal(["nosniff"]);
        answer.Headers.GetValues("X-Frame-Options").Should().Equal(["DENY"]);
        answer.Headers.GetValues("Referrer-Policy").Should().Equal(["no-referrer"]);
        answer.Headers.CacheControl!.NoCache.Should().BeTrue("a browser revalidates, so a new executable's console is never stale");
        answer.Headers.ETag!.IsWeak.Should().BeFalse("the ETag names these exact bytes");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_revalidation_with_the_etag_gets_304_and_no_body(CancellationToken cancellationToken)
    {
        foreach (string path in s_paths)
        {
            HttpAnswer first = await HttpExchange.GetAsync(Server.HttpUri(path), cancellationToken);
            string etag = first.Headers.ETag!.Tag;

            HttpAnswer again = await HttpExchange.SendAsync(HttpMethod.Get, Server.HttpUri(path), null, cancellationToken,
                new Dictionary<string, string> { ["If-None-Match"] = etag });
            HttpAnswer other = await HttpExchange.SendAsync(HttpMethod.Get, Server.HttpUri(path), null, cancellationToken,
                new Dictionary<string, string> { ["If-None-Match"] = "\"something-else\"" });

            HttpAnswer listed = await HttpExchange.SendAsync(HttpMethod.Get, Server.HttpUri(path), null, cancellationToken,
                new Dictionary<string, string> { ["If-None-Match"] = "\"older\", W/" + etag });

            again.Status.Should().Be(304, "{0} has not changed", path);
            listed.Status.Should().Be(304, "If-None-Match may list several ETags, weak ones compared weakly (RFC 9110 section 13.1.2)");
            again.Body.Should().BeEmpty();
            again.Headers.GetValues("Content-Security-Policy").Should().Equal([ContentSecurityPolicy], "a 304 carries the headers too");
            other.Status.Should().Be(200, "another ETag is another version");
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task head_gets_the_headers_of_get_and_no_body(CancellationToken cancellationToken)
    {
        foreach (string path in s_paths)
        {
            HttpAnswer get = await HttpExchange.GetAsync(Server.HttpUri(path), cancellationToken);
            HttpAnswer head = await HttpExchange.SendAsync(HttpMethod.Head, Server.HttpUri(path), null, cancellationToken);

            head.Status.Should().Be(200);
            head.Body.Should().BeEmpty("HEAD answers headers only");
            head.ContentHeaders.ContentLength.Should().Be(System.Text.Encoding.UTF8.GetByteCount(get.Body), "HEAD says how long the GET body of {0} is", path);
            head.ContentType.Should().Be(get.ContentType);
            head.Headers.ETag.Should().Be(get.Headers.ETag);
            head.Headers.GetValues("X-Frame-Options").Should().Equal(["DENY"]);
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task other_methods_get_405_with_allow(CancellationToken cancellationToken)
    {
        HttpAnswer answer = await HttpExchange.PostAsync(Server.HttpUri("/"), "{}", cancellationToken);

        answer.Status.Should().Be(405);
        answer.ContentHeaders.Allow.Should().Equal(["GET"], "the page is read-only, like /healthz (HEAD goes with GET)");
    }

    [Test, CancelAfter(30_000)]
    public async Task the_page_connects_to_the_path_the_server_was_given_and_loads_only_its_own_assets(CancellationToken cancellationToken)
    {
        string page = (await HttpExchange.GetAsync(Server.HttpUri("/"), cancellationToken)).Body;

        page.Should().Contain("""<meta name="camerarpc-path" content="/rpc">""", "the page learns --path from the server");
        string[] references = AssetReference().Matches(page).Select(m => m.Groups["url"].Value).ToArray();
        references.Should().BeEquivalentTo(["data:,", "console/console.css", "console/console.js"], "nothing is loaded from another origin");
        foreach (string asset in references.Where(r => !r.StartsWith("data:", StringComparison.Ordinal)))
        {
            (await HttpExchange.GetAsync(Server.HttpUri("/" + asset), cancellationToken)).Status.Should().Be(200, "{0} is served", asset);
        }

        InlineCode().IsMatch(page).Should().BeFalse("no inline script or style, so the CSP can forbid them");
    }

    [Test, CancelAfter(30_000)]
    public async Task the_console_off_answers_404_and_the_rpc_endpoint_still_works(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--console", "off");

        foreach (string path in s_paths)
        {
            (await HttpExchange.GetAsync(server.HttpUri(path), cancellationToken)).Status.Should().Be(404, "--console off serves nothing at {0}", path);
        }

        (await HttpExchange.PostAsync(server.HttpUri(), HttpExchange.Call("ping", 1), cancellationToken)).Body.Should().Be(HttpExchange.Pong(1));
    }

    [Test, CancelAfter(30_000)]
    public async Task the_page_needs_no_token_but_its_calls_do(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--auth-token", "s3cret");

        (await HttpExchange.GetAsync(server.HttpUri("/"), cancellationToken)).Status.Should().Be(200, "the page holds nothing secret; it asks for the token");
        (await HttpExchange.PostAsync(server.HttpUri(), HttpExchange.Call("ping", 1), cancellationToken)).Status.Should().Be(401, "what it calls needs the token");
    }

    [GeneratedRegex("""(?:href|src)="(?<url>[^"]*)""")]
    private static partial Regex AssetReference();

    [GeneratedRegex("""<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=""", RegexOptions.IgnoreCase)]
    private static partial Regex InlineCode();
}
