using System.Reflection;
using CameraRpc.Server.Cli;
using CameraRpc.Server.Tools.Cli;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Commands;
using CameraRpc.Server.Configuration;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Server;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class UsageTests
{
    [Test]
    public void help_lists_every_serve_option_with_its_environment_variable_and_default()
    {
        foreach (OptionDefinition option in OptionDefinitions.All)
        {
            Usage.Text.Should().Contain($"  {option.Flag} {option.ValueName}");
            Usage.Text.Should().Contain($"default {option.DefaultText}; env {option.EnvVar}; config \"{option.ConfigKey}\"");
        }

        Usage.Text.Should().Contain("--config FILE").And.Contain(OptionDefinitions.ConfigEnvVar);
    }

    [Test]
    public void help_covers_every_command_of_the_contract()
    {
        Usage.Text.Should().Contain("[serve] [options]")
            .And.Contain("call METHOD [PARAMS_JSON] [--url URL] [--notify]")
            .And.Contain("probe [--url URL] [--simple]")
            .And.Contain("bench [--url URL] [--connections N] [--duration S]")
            .And.Contain("--help | --version")
            .And.Contain("ws://127.0.0.1:8002/ws")
            .And.Contain("Exit codes:");
    }

    [Test]
    public void help_gives_the_defaults_bench_uses_and_every_option_it_accepts()
    {
        BenchCommand.TryParseOptions([], out LoadOptions? defaults, out _, out _).Should().BeTrue();

        Usage.Text.Should().Contain($"--connections N             connections (default {defaults!.Connections})")
            .And.Contain($"--duration S                seconds measured (default {defaults.Duration.TotalSeconds})")
            .And.Contain($"--warmup S                  seconds run before measuring (default {defaults.Warmup.TotalSeconds})")
            .And.Contain($"--pipeline D                requests in flight per connection (default {defaults.Pipeline})")
            .And.Contain("--server-pid PID", "bench accepts it, so --help names it")
            .And.Contain("WebSocket only (ws://", "bench refuses http:// URLs, so --help says so");
    }

    [Test]
    public void the_version_constant_matches_the_assembly_version()
    {
        string? informational = typeof(Usage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

        informational.Should().NotBeNull();
        informational!.Split('+')[0].Should().Be(Usage.Version, "--version must not drift from Directory.Build.props");
        Usage.VersionText.Should().Be("CameraRpc.Server " + Usage.Version);
    }
}
