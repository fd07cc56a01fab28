using CameraRpc.Server.Configuration;

namespace CameraRpc.Tests.Docs;

/// <summary>
/// The front page's option table is <see cref="OptionDefinitions.All"/>, no more and no less, no other guide repeats
/// it, and the operator's guide's sample config file loads.
/// </summary>
[Parallelizable(ParallelScope.Self)]
public sealed class ReadmeOptionsTests
{
    private static IReadOnlyList<ReadmeOption> ReadmeOptions()
    {
        string table = GuideDocument.FrontPage.TextFrom("options: OptionDefinitions.All");
        table.Should().NotBeEmpty("the README marks its option table with <!-- options: OptionDefinitions.All -->");

        // Columns: option | default | environment variable | config key | meaning
        return GuideDocument.TableRows(table)
            .Select(cells => new ReadmeOption(Code(cells[0]), Code(cells[1]), Code(cells[2]), Code(cells[3]), cells[4]))
            .ToList();
    }

    [Test]
    public void every_option_of_the_code_is_in_the_readme_with_its_flag_env_var_config_key_and_default()
    {
        IReadOnlyList<ReadmeOption> documented = ReadmeOptions();

        foreach (OptionDefinition option in OptionDefinitions.All)
        {
            ReadmeOption? row = documented.FirstOrDefault(o => o.Flag == option.Flag);
            row.Should().NotBeNull($"{option.Flag} is an option of the server, so the README's table must list it");
            row!.Default.Should().Be(option.DefaultText, $"the README states the default of {option.Flag} as the code does");
            row.EnvVar.Should().Be(option.EnvVar, $"the README names the environment variable of {option.Flag}");
            row.ConfigKey.Should().Be(option.ConfigKey, $"the README names the config-file key of {option.Flag}");
            row.Meaning.Should().NotBeNullOrWhiteSpace($"the README says what {option.Flag} does");
        }
    }

    [Test]
    public void the_readme_lists_no_option_the_code_lacks_and_none_twice()
    {
        IReadOnlyList<ReadmeOption> documented = ReadmeOptions();

        documented.Select(o => o.Flag).Should().OnlyHaveUniqueItems("each option has one row");
        documented.Select(o => o.Flag).Should().BeEquivalentTo(
            OptionDefinitions.All.Select(o => o.Flag), "an option the code does not parse would be a startup failure for whoever trusts the README");
    }

    [Test]
    public void the_readme_names_the_config_flag_and_its_environment_variable()
    {
        GuideDocument.FrontPage.Section("Options").Should()
            .Contain("`" + OptionDefinitions.ConfigFlag + " FILE`", "the README says how to give a config file")
            .And.Contain("`" + OptionDefinitions.ConfigEnvVar + "`", "and the variable that names one");
    }

    [Test]
    public void no_guide_but_the_front_page_has_a_row_for_an_option()
    {
        foreach (GuideDocument guide in GuideDocument.All.Where(g => g != GuideDocument.FrontPage))
        {
            foreach (OptionDefinition option in OptionDefinitions.All)
            {
                guide.Text.Should().NotContain(
                    "\n| `" + option.Flag + "` |", $"the option table lives on the front page only; {guide} links to it instead of repeating {option.Flag}");
            }
        }
    }

    [Test]
    public void the_sample_config_file_in_the_operators_guide_loads_with_every_key_it_shows()
    {
        string? sample = GuideDocument.OperatorGuide.FencedBlockAfter("example: camerarpc.json");
        sample.Should().NotBeNull("the operator's guide marks its sample config with <!-- example: camerarpc.json -->");
        string path = Path.Combine(Path.GetTempPath(), "camerarpc-readme-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, sample);
        try
        {
            OptionsResult loaded = OptionsLoader.Load(["--config", path], _ => null);

            loaded.Error.Should().BeNull("the guide's sample config must be a file the server accepts");
            foreach (OptionDefinition option in OptionDefinitions.All)
            {
                sample.Should().Contain("\"" + option.ConfigKey + "\"", $"the sample config shows every key, {option.ConfigKey} included");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Code(string cell) => cell.Trim().Trim('`');

    private sealed record ReadmeOption(string Flag, string Default, string EnvVar, string ConfigKey, string Meaning);
}
