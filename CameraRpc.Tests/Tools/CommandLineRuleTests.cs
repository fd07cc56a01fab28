using CameraRpc.Server.Configuration;
using CameraRpc.Server.Tools.Cli;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Commands;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Tools;

/// <summary>
/// Every command's command line follows one rule (<see cref="CommandArguments"/>), serve's included: an
/// unknown option, a repeated option and a missing value are errors, each with the same line whatever
/// the command.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class CommandLineRuleTests
{
    /// <summary>Each command's parser, as (name, args) → error or null.</summary>
    private static readonly Dictionary<string, Func<string[], string?>> s_parsers = new()
    {
        ["serve"] = args => OptionsLoader.Load(args, _ => null).Error,
        ["call"] = args => CallCommand.TryParseOptions(["ping", .. args], out _, out string? error) ? null : error,
        ["probe"] = args => ProbeCommand.TryParseOptions(args, out _, out string? error) ? null : error,
        ["bench"] = args => BenchCommand.TryParseOptions(args, out LoadOptions? _, out _, out string? error) ? null : error,
        ["watch"] = args => WatchCommand.TryParseOptions(["camera.controls", .. args], out _, out string? error) ? null : error,
    };

    /// <summary>An option each command takes with a value, and a valid value for it.</summary>
    private static IEnumerable<TestCaseData> ValueOptions()
    {
        yield return new TestCaseData("serve", "--port", "9000");
        yield return new TestCaseData("serve", "--config", "a.json");
        yield return new TestCaseData("call", "--url", "ws://127.0.0.1:1/ws");
        yield return new TestCaseData("probe", "--url", "ws://127.0.0.1:1/ws");
        yield return new TestCaseData("bench", "--connections", "2");
        yield return new TestCaseData("watch", "--count", "2");
    }

    [TestCaseSource(nameof(ValueOptions))]
    public void an_option_given_twice_is_an_error_naming_it_in_every_command(string command, string option, string value)
    {
        s_parsers[command]([option, value, option, value]).Should().Be(
            $"{option} given twice (give each option once)", "a repeated option is an error everywhere, never 'last one wins' in one command and an error in another");
        s_parsers[command]([$"{option}={value}", option, value]).Should().Be($"{option} given twice (give each option once)", "both spellings are the same option");
    }

    [TestCase("call", "--notify")]
    [TestCase("probe", "--simple")]
    [TestCase("bench", "--json")]
    [TestCase("bench", "--compression")]
    public void a_switch_given_twice_is_an_error_too(string command, string flag) =>
        s_parsers[command]([flag, flag]).Should().Be($"{flag} given twice (give each option once)");

    [TestCase("serve")]
    [TestCase("call")]
    [TestCase("probe")]
    [TestCase("bench")]
    [TestCase("watch")]
    public void an_unknown_option_gets_the_same_line_in_every_command(string command) =>
        s_parsers[command](["--bogus", "1"]).Should().Be("unknown option '--bogus' (see --help)");

    [TestCaseSource(nameof(ValueOptions))]
    public void an_option_followed_by_another_option_is_missing_its_value_in_every_command(string command, string option, string value)
    {
        _ = value;
        s_parsers[command]([option, "--url=ws://127.0.0.1:1/ws"]).Should().Be($"missing value for {option}", "the next option is not swallowed as a value");
    }

    [Test]
    public void a_value_that_starts_with_two_dashes_is_given_with_an_equals_sign()
    {
        OptionsResult result = OptionsLoader.Load(["--auth-token=--secret--"], _ => null);

        result.Error.Should().BeNull();
        result.Options!.AuthToken.Should().Be("--secret--");
    }

    [Test]
    public void options_keep_their_command_line_order_and_double_dash_ends_them()
    {
        CommandArguments.TryParse(["--b", "2", "x", "--a=1", "--", "--c"], ["--a", "--b"], [], out CommandArguments? parsed, out _).Should().BeTrue();

        parsed!.Values.Select(v => v.Key).Should().Equal("--b", "--a");
        parsed.Positionals.Should().Equal("x", "--c");
    }
}
