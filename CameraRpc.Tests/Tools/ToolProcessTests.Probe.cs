using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Tools;

public sealed partial class ToolProcessTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task probe_passes_every_check_against_the_real_server(CancellationToken cancellationToken)
    {
        // One call first, so the ping round trip the probe times (against 50 ms) is not the server's first
        // request: the server process here may be the JIT-compiled apphost, not the Native AOT build.
        (await CommandProcess.RunAsync(cancellationToken, "call", "ping", "--url", ServerUrl("ws"))).ExitCode.Should().Be(0);

        CommandProcess.Outcome run = await CommandProcess.RunAsync(cancellationToken, "probe", "--url", ServerUrl("ws"));

        run.ExitCode.Should().Be(0, $"every check passed: {run}");
        run.StdoutLines.Should().HaveCount(5, "four ✅ lines and the verdict");
        run.StdoutLines[..4].Should().AllSatisfy(line => line.Should().StartWith("✅ "));
        run.StdoutLines[0].Should().StartWith("✅ Ping test passed! Response: 'pong' in ");
        run.StdoutLines[2].Should().Be("""✅ Invalid method test passed! Got expected error: {"code":-32601,"message":"Method not found: invalid_method"}""");
        run.StdoutLines[3].Should().Be("""✅ Malformed JSON test passed! Got expected parse error: {"code":-32700,"message":"Parse error"}""");
        run.StdoutLines[4].Should().Be("🎉 All tests passed!");
        run.Stderr.Should().BeEmpty();
    }

    [TestCase("ws")]
    [TestCase("http")]
    [CancelAfter(60_000)]
    public async Task probe_exits_2_with_one_cross_when_the_connection_is_refused(string scheme, CancellationToken cancellationToken)
    {
        string url = RefusedUrl(scheme);

        CommandProcess.Outcome run = await CommandProcess.RunAsync(cancellationToken, "probe", "--url", url);

        run.ExitCode.Should().Be(2, $"2 means cannot connect, over HTTP as over WebSocket: {run}");
        run.StdoutLines.Should().Equal([$"❌ cannot connect to {url}: Connection refused"], "no check can run, so there is one line, not one per check");
    }
}
