using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Tools;

public sealed partial class ToolProcessTests
{
    [TestCase("ws")]
    [TestCase("http")]
    [CancelAfter(60_000)]
    public async Task call_prints_a_result_and_exits_0(string scheme, CancellationToken cancellationToken)
    {
        CommandProcess.Outcome run = await CommandProcess.RunAsync(cancellationToken, "call", "echo", "[\"hello\"]", "--url", ServerUrl(scheme));

        run.ExitCode.Should().Be(0, $"0 means a result: {run}");
        run.Stdout.Trim().Should().Be("""{"jsonrpc":"2.0","result":"hello","id":1}""", "piped output is the answer, compact");
        run.Stderr.Should().BeEmpty();
    }

    [TestCase("ws")]
    [TestCase("http")]
    [CancelAfter(60_000)]
    public async Task call_prints_an_error_answer_and_exits_1(string scheme, CancellationToken cancellationToken)
    {
        CommandProcess.Outcome run = await CommandProcess.RunAsync(cancellationToken, "call", "nosuch", "--url", ServerUrl(scheme));

        run.ExitCode.Should().Be(1, $"1 means an error answer: {run}");
        run.Stdout.Trim().Should().Be("""{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found: nosuch"},"id":1}""");
        run.Stderr.Should().BeEmpty();
    }

    [TestCase("ws")]
    [TestCase("http")]
    [CancelAfter(60_000)]
    public async Task call_exits_2_with_one_line_when_the_connection_is_refused(string scheme, CancellationToken cancellationToken)
    {
        string url = RefusedUrl(scheme);

        CommandProcess.Outcome run = await CommandProcess.RunAsync(cancellationToken, "call", "ping", "--url", url);

        run.ExitCode.Should().Be(2, $"2 means cannot connect: {run}");
        run.Stdout.Should().BeEmpty();
        run.StderrLines.Should().Equal([$"cannot connect to {url}: Connection refused"], "one clear line says why");
    }
}
