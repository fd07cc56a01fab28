using System.Text.Json;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Tools;

/// <summary>
/// <c>call</c>, <c>probe</c> and <c>bench</c> against a server started with <c>--auth-token</c>: the real
/// executable in a child process whose environment holds (or lacks) <c>CAMERARPC_AUTH_TOKEN</c>, as an
/// operator who sourced the service's env file runs it.
/// </summary>
[NonParallelizable]
public sealed class AuthTokenToolTests : SharedServerFixture
{
    private const string Token = "s3cret-t0ken.for_tests~";

    protected override string[] ServerArguments => ["--auth-token", Token];

    [TestCase("ws")]
    [TestCase("http")]
    [CancelAfter(60_000)]
    public async Task call_with_the_token_in_the_environment_gets_its_answer(string scheme, CancellationToken cancellationToken)
    {
        CommandProcess.Outcome run = await CommandProcess.RunAsync(WithToken(Token), cancellationToken, "call", "ping", "--url", ServerUrl(scheme));

        run.ExitCode.Should().Be(0, $"the token is the server's, so the call is answered: {run}");
        run.Stdout.Trim().Should().Be("""{"jsonrpc":"2.0","result":"pong","id":1}""");
        run.Stderr.Should().BeEmpty();
    }

    [TestCase("ws")]
    [TestCase("http")]
    [CancelAfter(60_000)]
    public async Task call_without_a_token_exits_2_with_one_line_saying_the_server_wants_one(string scheme, CancellationToken cancellationToken)
    {
        string url = ServerUrl(scheme);

        CommandProcess.Outcome run = await CommandProcess.RunAsync(cancellationToken, "call", "ping", "--url", url);

        run.ExitCode.Should().Be(2, $"a refused connection is exit 2, as a refused TCP connect is: {run}");
        run.Stdout.Should().BeEmpty();
        run.StderrLines.Should().Equal(
            [$"cannot connect to {url}: 401 Unauthorized, the server wants a token (set CAMERARPC_AUTH_TOKEN to its --auth-token)"],
            "one line says what the server wants and where the tool takes the token from");
    }

    [TestCase("ws")]
    [TestCase("http")]
    [CancelAfter(60_000)]
    public async Task call_with_a_wrong_token_exits_2_with_one_line_saying_it_was_refused(string scheme, CancellationToken cancellationToken)
    {
        string url = ServerUrl(scheme);

        CommandProcess.Outcome run = await CommandProcess.RunAsync(WithToken("not-the-token"), cancellationToken, "call", "ping", "--url", url);

        run.ExitCode.Should().Be(2, $"a refused connection is exit 2: {run}");
        run.Stdout.Should().BeEmpty();
        run.StderrLines.Should().Equal(
            [$"cannot connect to {url}: 401 Unauthorized, the server refused the token in CAMERARPC_AUTH_TOKEN"],
            "a token was sent, so the line says that one was refused rather than asking for one");
        run.Stderr.Should().NotContain("not-the-token", "the token is a secret, even a wrong one");
    }

    [TestCase("ws")]
    [TestCase("http")]
    [CancelAfter(60_000)]
    public async Task probe_with_the_token_passes_every_check(string scheme, CancellationToken cancellationToken)
    {
        // One call first, so the ping round trip the probe times (against 50 ms) is not the server's first
        // request on this transport: the server process here may be the JIT-compiled apphost.
        (await CommandProcess.RunAsync(WithToken(Token), cancellationToken, "call", "ping", "--url", ServerUrl(scheme))).ExitCode.Should().Be(0);

        CommandProcess.Outcome run = await CommandProcess.RunAsync(WithToken(Token), cancellationToken, "probe", "--url", ServerUrl(scheme));

        run.ExitCode.Should().Be(0, $"every check passed: {run}");
        run.StdoutLines.Should().HaveCount(5, "four ✅ lines and the verdict");
        run.StdoutLines[..4].Should().AllSatisfy(line => line.Should().StartWith("✅ "));
        run.StdoutLines[4].Should().Be("🎉 All tests passed!");
        run.Stderr.Should().BeEmpty();
    }

    [TestCase("ws")]
    [TestCase("http")]
    [CancelAfter(60_000)]
    public async Task probe_without_a_token_exits_2_with_one_cross(string scheme, CancellationToken cancellationToken)
    {
        string url = ServerUrl(scheme);

        CommandProcess.Outcome run = await CommandProcess.RunAsync(cancellationToken, "probe", "--url", url);

        run.ExitCode.Should().Be(2, $"no check can pass without the token, over HTTP as over WebSocket: {run}");
        run.StdoutLines.Should().Equal(
            [$"❌ cannot connect to {url}: 401 Unauthorized, the server wants a token (set CAMERARPC_AUTH_TOKEN to its --auth-token)"],
            "one line, not one failed check per check");
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task bench_with_the_token_answers_requests(CancellationToken cancellationToken)
    {
        CommandProcess.Outcome run = await CommandProcess.RunAsync(
            WithToken(Token), cancellationToken, "bench", "--url", ServerUrl("ws"), "--connections", "2", "--duration", "1", "--warmup", "0", "--json");

        run.ExitCode.Should().Be(0, $"every connection upgraded with the token and nothing was lost: {run}");
        using JsonDocument report = JsonDocument.Parse(run.Stdout);
        report.RootElement.GetProperty("connectionsOpened").GetInt32().Should().Be(2);
        report.RootElement.GetProperty("answered").GetInt64().Should().BePositive();
        report.RootElement.GetProperty("ok").GetBoolean().Should().BeTrue();
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task bench_with_a_wrong_token_exits_2_at_once_with_one_line(CancellationToken cancellationToken)
    {
        string url = ServerUrl("ws");

        // A minute of warm-up and of measurement: the test's 30 s limit fails it if bench waits for them.
        CommandProcess.Outcome run = await CommandProcess.RunAsync(
            WithToken("not-the-token"), cancellationToken, "bench", "--url", url, "--connections", "2", "--warmup", "60", "--duration", "60");

        run.ExitCode.Should().Be(2, $"no connection opened: {run}");
        run.Stdout.Should().BeEmpty();
        run.StderrLines.Should().Equal([$"cannot connect to {url}: 401 Unauthorized, the server refused the token in CAMERARPC_AUTH_TOKEN"]);
    }

    private static Dictionary<string, string> WithToken(string token) => new() { ["CAMERARPC_AUTH_TOKEN"] = token };

    private string ServerUrl(string scheme) => $"{scheme}://127.0.0.1:{Server.Port}/ws";
}
