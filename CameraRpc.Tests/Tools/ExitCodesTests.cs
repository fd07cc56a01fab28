using System.Reflection;
using CameraRpc.Server.Tools.Cli;
using CameraRpc.Server.Tools.Commands;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Tools;

/// <summary>One name per meaning, the values of contract section 1, and each command's outcomes mapped to them.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class ExitCodesTests
{
    [Test]
    public void each_meaning_has_one_name_with_the_contracts_value()
    {
        Dictionary<string, int> codes = typeof(ExitCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral)
            .ToDictionary(field => field.Name, field => (int)field.GetRawConstantValue()!);

        codes.Should().Equal(
            new Dictionary<string, int>
            {
                ["Success"] = 0,
                ["StartupFailure"] = 1,
                ["ImmediateExit"] = 1,
                ["UsageError"] = 1,
                ["ErrorAnswer"] = 1,
                ["ProbeFailed"] = 1,
                ["BenchFailed"] = 1,
                ["CannotConnect"] = 2,
            },
            "no catch-all name: each return says which outcome it is, and the values are the contract's");
    }

    [TestCase("call")]
    [TestCase("probe")]
    [TestCase("bench")]
    [TestCase("watch")]
    [CancelAfter(10_000)]
    public async Task a_bad_argument_is_a_usage_error_and_nothing_is_sent(string command, CancellationToken cancellationToken)
    {
        var stderr = new StringWriter();
        string[] args = ["--bogus"];

        int exitCode = command switch
        {
            "call" => await CallCommand.RunAsync(args, new StringWriter(), stderr, cancellationToken),
            "probe" => await ProbeCommand.RunAsync(args, new StringWriter(), stderr, cancellationToken),
            "bench" => await BenchCommand.RunAsync(args, new StringWriter(), stderr, cancellationToken),
            _ => await WatchCommand.RunAsync(args, new StringWriter(), stderr, cancellationToken),
        };

        exitCode.Should().Be(ExitCodes.UsageError);
        stderr.ToString().Should().StartWith($"{command}: unknown option '--bogus'");
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task watch_exits_2_with_one_line_when_nothing_listens(CancellationToken cancellationToken)
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exitCode = await WatchCommand.RunAsync(["server.stats", "--url", $"ws://127.0.0.1:{port}/ws"], stdout, stderr, cancellationToken);

        exitCode.Should().Be(ExitCodes.CannotConnect);
        stdout.ToString().Should().BeEmpty();
        stderr.ToString().Trim().Should().StartWith($"cannot connect to ws://127.0.0.1:{port}/ws: ").And.NotContain("\n");
    }
}
