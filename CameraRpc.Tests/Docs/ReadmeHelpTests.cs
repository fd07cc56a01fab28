using System.Text.RegularExpressions;
using CameraRpc.Server.Cli;
using CameraRpc.Server.Tools.Cli;

namespace CameraRpc.Tests.Docs;

/// <summary>--help covers every command of the contract and of the guides, and the operator's guide's exit codes are those of <see cref="ExitCodes"/>.</summary>
[Parallelizable(ParallelScope.Self)]
public sealed partial class ReadmeHelpTests
{
    // Every command and flag of contract section 1.
    private static readonly string[] s_contractUsage =
    [
        "[serve] [options]",
        "call METHOD [PARAMS_JSON] [--url URL] [--notify]",
        "probe [--url URL] [--simple]",
        "bench [--url URL] [--connections N] [--duration S]",
        "[--pipeline D] [--method M] [--params JSON] [--json]",
        "watch TOPIC [PARAMS_JSON] [--url URL] [--count N]",
        "[--compression]",
        "--help | --version",
    ];

    [TestCaseSource(nameof(s_contractUsage))]
    public void help_mentions_every_command_of_the_contract(string usage) =>
        Usage.Text.Should().Contain(usage, "--help must show every command and flag the contract promises");

    [Test]
    public void every_command_a_guide_runs_is_one_that_help_shows()
    {
        foreach (GuideDocument guide in GuideDocument.All)
        {
            foreach (Match run in ReadmeCommand().Matches(guide.Text))
            {
                string command = run.Groups["command"].Value;
                Usage.Text.Should().Contain($"{Usage.ProgramName} {command} ", $"{guide} runs '{command}', so --help must know it");
            }
        }
    }

    [Test]
    public void the_readme_quotes_the_exit_codes_of_the_code()
    {
        GuideDocument guide = GuideDocument.OperatorGuide;
        string table = guide.TextFrom("exit codes: Cli/ExitCodes.cs");
        table.Should().NotBeEmpty($"{guide} marks its exit-code table with <!-- exit codes: Cli/ExitCodes.cs -->");

        // Columns: command | exit code | when
        var documented = GuideDocument.TableRows(table)
            .Select(cells => (Command: cells[0].Trim('`'), Code: int.Parse(cells[1].Trim('`'), System.Globalization.CultureInfo.InvariantCulture), When: cells[2]))
            .ToList();

        (string Command, int Code, string Keyword)[] expected =
        [
            ("serve", ExitCodes.Success, "graceful shutdown"),
            ("serve", ExitCodes.StartupFailure, "startup failure"),
            ("serve", ExitCodes.ImmediateExit, "second signal"),
            ("call", ExitCodes.Success, "result"),
            ("call", ExitCodes.ErrorAnswer, "error answer"),
            ("call", ExitCodes.UsageError, "bad arguments"),
            ("call", ExitCodes.CannotConnect, "cannot connect"),
            ("probe", ExitCodes.Success, "every check passed"),
            ("probe", ExitCodes.ProbeFailed, "a check failed"),
            ("probe", ExitCodes.CannotConnect, "cannot connect"),
            ("bench", ExitCodes.Success, "no request lost or failed"),
            ("bench", ExitCodes.BenchFailed, "lost or failed"),
            ("bench", ExitCodes.CannotConnect, "cannot connect"),
            ("watch", ExitCodes.Success, "Ctrl+C"),
            ("watch", ExitCodes.ErrorAnswer, "refused the subscription"),
            ("watch", ExitCodes.CannotConnect, "cannot connect"),
            ("--help, --version", ExitCodes.Success, "always"),
        ];

        documented.Should().HaveCount(expected.Length, "one row per outcome of every command");
        foreach ((string command, int code, string keyword) in expected)
        {
            documented.Should().Contain(
                row => row.Command == command && row.Code == code && row.When.Contains(keyword, StringComparison.Ordinal),
                $"ExitCodes says '{command}' exits {code} when {keyword}");
        }
    }

    [Test]
    public void the_exit_codes_in_help_agree_with_the_readme()
    {
        Usage.Text.Should().Contain($"call     {ExitCodes.Success} result, {ExitCodes.ErrorAnswer} error response, {ExitCodes.CannotConnect} cannot connect")
            .And.Contain($"probe    {ExitCodes.Success} every check passed, {ExitCodes.ProbeFailed} a check failed, {ExitCodes.CannotConnect} cannot connect")
            .And.Contain($"watch    {ExitCodes.Success} ended (Ctrl+C, --count, the server's end), {ExitCodes.ErrorAnswer} subscription refused, {ExitCodes.CannotConnect} cannot connect");
    }

    // "CameraRpc.Server call ...", "./dist/CameraRpc.Server probe ..." in the README's shell blocks.
    [GeneratedRegex(@"CameraRpc\.Server (?<command>call|probe|bench|watch|serve)\b")]
    private static partial Regex ReadmeCommand();
}
