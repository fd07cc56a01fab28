using CameraRpc.Server.Cli;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Commands;

namespace CameraRpc.Tests.Tools;

/// <summary>The command line of <c>bench --subscribers</c>: defaults, every limit at its edge, and the options of the other mode refused by name.</summary>
[Parallelizable(ParallelScope.Self)]
public sealed class BenchFanOutOptionsTests
{
    [Test]
    public void subscribers_alone_gives_the_defaults()
    {
        BenchCommand.IsFanOut(["--subscribers", "10"]).Should().BeTrue();
        BenchCommand.TryParseFanOutOptions(["--subscribers", "10"], out FanOutOptions? options, out bool json, out string? error).Should().BeTrue(error);

        options!.Should().Be(new FanOutOptions(new Uri("ws://127.0.0.1:8002/ws"), 10, 0, BenchCommand.DefaultEvents, 0, 0, null));
        json.Should().BeFalse();
    }

    [Test]
    public void every_option_is_read()
    {
        BenchCommand.TryParseFanOutOptions(
            ["--subscribers=1000", "--stalled", "1", "--events", "0", "--rate", "250", "--size", "1024", "--url", "ws://10.0.0.5:9000/rpc", "--json", "--server-pid", "42"],
            out FanOutOptions? options, out bool json, out string? error).Should().BeTrue(error);

        options!.Should().Be(new FanOutOptions(new Uri("ws://10.0.0.5:9000/rpc"), 1000, 1, 0, 250, 1024, 42));
        json.Should().BeTrue();
    }

    [TestCase("--subscribers", "1", true)]
    [TestCase("--subscribers", "100000", true)]
    [TestCase("--subscribers", "0", false)]
    [TestCase("--subscribers", "100001", false)]
    [TestCase("--stalled", "0", true)]
    [TestCase("--stalled", "100000", true)]
    [TestCase("--stalled", "100001", false)]
    [TestCase("--events", "0", true)]
    [TestCase("--events", "100000000", true)]
    [TestCase("--events", "100000001", false)]
    [TestCase("--events", "-1", false)]
    [TestCase("--rate", "10000000", true)]
    [TestCase("--rate", "10000001", false)]
    [TestCase("--size", "65536", true)]
    [TestCase("--size", "65537", false)]
    [TestCase("--server-pid", "0", false)]
    public void each_limit_holds_at_its_edge(string option, string value, bool valid)
    {
        string[] args = option == "--subscribers" ? [option, value] : ["--subscribers", "1", option, value];

        bool parsed = BenchCommand.TryParseFanOutOptions(args, out _, out _, out string? error);

        parsed.Should().Be(valid, error);
        if (!valid)
        {
            error.Should().StartWith($"{option} must be an integer from ", "the error names the option");
        }
    }

    [TestCase("--connections", "5")]
    [TestCase("--duration", "5")]
    [TestCase("--pipeline", "5")]
    [TestCase("--method", "ping")]
    public void an_option_of_the_load_run_is_refused_by_name(string option, string value)
    {
        BenchCommand.TryParseFanOutOptions(["--subscribers", "5", option, value], out _, out _, out string? error).Should().BeFalse();

        error.Should().Be($"{option} does not apply to a fan-out run (--subscribers)");
    }

    [Test]
    public void compression_is_refused_by_name_too()
    {
        BenchCommand.TryParseFanOutOptions(["--subscribers", "5", "--compression"], out _, out _, out string? error).Should().BeFalse();

        error.Should().Be("--compression does not apply to a fan-out run (--subscribers)");
    }

    [TestCase("--events")]
    [TestCase("--rate")]
    [TestCase("--stalled")]
    [TestCase("--size")]
    public void a_fan_out_option_without_subscribers_says_it_needs_them(string option)
    {
        BenchCommand.IsFanOut([option, "1"]).Should().BeFalse();
        BenchCommand.TryParseOptions([option, "1"], out _, out _, out string? error).Should().BeFalse();

        error.Should().Be($"{option} needs --subscribers (it is an option of the fan-out run)");
    }

    [Test]
    public void subscribers_after_the_end_of_options_is_not_the_fan_out_run() =>
        BenchCommand.IsFanOut(["--", "--subscribers", "1"]).Should().BeFalse();

    [Test]
    public void help_shows_the_fan_out_run_and_its_options()
    {
        Usage.Text.Should().Contain("CameraRpc.Server bench --subscribers N [--events E] [--rate R] [--size B]")
            .And.Contain("[--stalled K] [--url URL] [--json] [--server-pid PID]")
            .And.Contain($"--events E                  events published (default {BenchCommand.DefaultEvents})")
            .And.Contain("--stalled K")
            .And.Contain("--bench-topics on");
        BenchCommand.Usage.Should().Contain("bench --subscribers N", "an argument error prints both usage lines");
    }
}
