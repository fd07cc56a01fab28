using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// Every connection is a file descriptor. The executable raises its soft limit to the hard limit at
/// startup, and warns when even that is short of <c>--max-connections</c>.
/// The limits are set for the server alone with util-linux's <c>prlimit</c>, which then runs it in the same process.
/// </summary>
[Parallelizable(ParallelScope.Self)]
public sealed class OpenFilesLimitTests
{
    private const string Prlimit = "/usr/bin/prlimit";

    [Test, CancelAfter(30_000)]
    public async Task the_soft_limit_is_raised_to_the_hard_limit_without_a_warning_when_that_is_enough(CancellationToken cancellationToken)
    {
        RequirePrlimit();
        await using ServerProcess server = await ServerProcess.StartAsync(
            ["--max-connections", "1000", "--log-level", "debug"], null, cancellationToken, [Prlimit, "--nofile=256:4096", "--"]);

        await server.WaitForLineAsync(line => line.Contains("Open files limit", StringComparison.Ordinal), cancellationToken);
        (ulong soft, ulong hard) = OpenFiles(server.ProcessId);

        (soft, hard).Should().Be((4096UL, 4096UL), "the server takes what the hard limit allows, so a soft limit of 256 does not cap it at 200 clients");
        // The JIT-compiled runtime raises the limit itself before Main; the Native AOT one leaves it to the server.
        server.Lines.Should().Contain(
            line => line.EndsWith(" - DEBUG - Open files limit raised from 256 to 4096 (the hard limit)", StringComparison.Ordinal)
                || line.EndsWith(" - DEBUG - Open files limit: 4096", StringComparison.Ordinal),
            "debug says what the limit is");
        server.Lines.Should().NotContain(line => line.Contains(" - WARNING - ", StringComparison.Ordinal), "4096 descriptors are enough for 1000 connections");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_hard_limit_below_max_connections_is_a_warning_that_names_both(CancellationToken cancellationToken)
    {
        RequirePrlimit();
        await using ServerProcess server = await ServerProcess.StartAsync([], null, cancellationToken, [Prlimit, "--nofile=256:256", "--"]);

        string warning = await server.WaitForLineAsync(line => line.Contains("Open files limit is", StringComparison.Ordinal), cancellationToken);

        warning.Should().Contain(" - WARNING - Open files limit is 256, too low for --max-connections 10000", "the operator learns why clients will wait")
            .And.Contain("LimitNOFILE", "and how to fix it");
    }

    private static void RequirePrlimit()
    {
        if (!File.Exists(Prlimit))
        {
            Assert.Inconclusive($"{Prlimit} (util-linux) is not installed");
        }
    }

    /// <summary>The soft and hard "Max open files" of a running process, from /proc.</summary>
    private static (ulong Soft, ulong Hard) OpenFiles(int pid)
    {
        string line = File.ReadLines($"/proc/{pid}/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (ulong.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture), ulong.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
