using CameraRpc.Server.Configuration;
using CameraRpc.Server.Logging;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Server;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class OptionsLoaderTests
{
    private static readonly Dictionary<string, string> s_noEnv = [];
    private string _folder = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = Path.Combine(Path.GetTempPath(), "camerarpc-options-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    /// <summary>Each option once: its value as typed, and the property it must set.</summary>
    private static IEnumerable<TestCaseData> EveryOption()
    {
        yield return Case("--host", "127.0.0.1", o => o.Host.Should().Be("127.0.0.1"));
        yield return Case("--port", "9000", o => o.Port.Should().Be(9000));
        yield return Case("--path", "/rpc", o => o.Path.Should().Be("/rpc"));
        yield return Case("--log-file", "other/x.log", o => o.LogFile.Should().Be("other/x.log"));
        yield return Case("--log-level", "debug", o => o.LogLevel.Should().Be(LogLevel.Debug));
        yield return Case("--max-message-bytes", "4096", o => o.MaxMessageBytes.Should().Be(4096));
        yield return Case("--max-batch", "7", o => o.MaxBatch.Should().Be(7));
        yield return Case("--max-connections", "12", o => o.MaxConnections.Should().Be(12));
        yield return Case("--max-concurrency", "3", o => o.MaxConcurrency.Should().Be(3));
        yield return Case("--auth-token", "s3cret", o => o.AuthToken.Should().Be("s3cret"));
        yield return Case("--allowed-origins", "https://a.example, https://b.example/", o => o.AllowedOrigins.Should().Equal("https://a.example", "https://b.example"));
        yield return Case("--idle-timeout", "30", o => o.IdleTimeout.Should().Be(TimeSpan.FromSeconds(30)));
        yield return Case("--shutdown-timeout", "2.5", o => o.ShutdownTimeout.Should().Be(TimeSpan.FromSeconds(2.5)));
        yield return Case("--max-subscriptions", "5", o => o.MaxSubscriptions.Should().Be(5));
        yield return Case("--compression", "off", o => o.Compression.Should().BeFalse());
        yield return Case("--tokens-file", "/etc/camerarpc/tokens.json", o => o.TokensFile.Should().Be("/etc/camerarpc/tokens.json"));
        yield return Case("--rate-limit", "20", o => o.RateLimit.Should().Be(20));
        yield return Case("--rate-limit-per-address", "50", o => o.RateLimitPerAddress.Should().Be(50));
        yield return Case("--connect-rate-limit", "4", o => o.ConnectRateLimit.Should().Be(4));
        yield return Case("--trusted-proxies", "127.0.0.1, 10.0.0.0/8, ::1", o => o.TrustedProxies.Select(n => n.ToString()).Should().Equal("127.0.0.1/32", "10.0.0.0/8", "::1/128"));
        yield return Case("--console", "off", o => o.Console.Should().BeFalse());
        yield return Case("--bench-topics", "on", o => o.BenchTopics.Should().BeTrue());

        static TestCaseData Case(string flag, string value, Action<ServerOptions> check) =>
            new TestCaseData(flag, value, new OptionCheck(check)).SetArgDisplayNames(flag, value);
    }

    [Test]
    public void no_sources_give_the_contract_defaults()
    {
        OptionsResult result = OptionsLoader.Load([], _ => null);

        result.Succeeded.Should().BeTrue(result.Error);
        ServerOptions o = result.Options!;
        o.Host.Should().Be("0.0.0.0");
        o.Port.Should().Be(8002);
        o.Path.Should().Be("/ws");
        o.LogFile.Should().Be("logs/server.log");
        o.LogLevel.Should().Be(LogLevel.Info);
        o.MaxMessageBytes.Should().Be(1048576);
        o.MaxBatch.Should().Be(1000);
        o.MaxConnections.Should().Be(10000);
        o.MaxConcurrency.Should().Be(64);
        o.AuthToken.Should().BeNull();
        o.AllowedOrigins.Should().BeEmpty();
        o.IdleTimeout.Should().Be(TimeSpan.Zero);
        o.ShutdownTimeout.Should().Be(TimeSpan.FromSeconds(10));
        o.MaxSubscriptions.Should().Be(100);
        o.Compression.Should().BeTrue();
        o.TokensFile.Should().BeNull();
        o.RateLimit.Should().Be(0);
        o.RateLimitPerAddress.Should().Be(0);
        o.ConnectRateLimit.Should().Be(0);
        o.TrustedProxies.Should().BeEmpty();
        o.Console.Should().BeTrue();
        o.BenchTopics.Should().BeFalse("the benchmark's topic and method are off unless asked for");
        result.ConfigFile.Should().BeNull();
    }

    [Test]
    public void every_default_text_in_the_table_parses_to_the_record_default()
    {
        foreach (OptionDefinition definition in OptionDefinitions.All)
        {
            definition.TryApply(ServerOptions.Default, definition.DefaultText, out ServerOptions? applied)
                .Should().BeTrue($"the default text of {definition.Flag} is what --help and the README show");
            (applied! with { AllowedOrigins = ServerOptions.Default.AllowedOrigins })
                .Should().Be(ServerOptions.Default, $"{definition.Flag} {definition.DefaultText} is the default");
            applied!.AllowedOrigins.Should().BeEmpty();
        }
    }

    [Test]
    public void every_option_follows_the_contract_naming_rules()
    {
        foreach (OptionDefinition definition in OptionDefinitions.All)
        {
            string name = definition.Flag[2..];
            definition.EnvVar.Should().Be("CAMERARPC_" + name.ToUpperInvariant().Replace('-', '_'));
            string[] words = name.Split('-');
            string camel = words[0] + string.Concat(words.Skip(1).Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
            definition.ConfigKey.Should().Be(camel);
        }

        OptionDefinitions.All.Select(d => d.Flag).Should().Equal(
            "--host", "--port", "--path", "--log-file", "--log-level", "--max-message-bytes", "--max-batch",
            "--max-connections", "--max-concurrency", "--auth-token", "--allowed-origins", "--idle-timeout", "--shutdown-timeout",
            "--max-subscriptions", "--compression", "--tokens-file", "--rate-limit", "--rate-limit-per-address", "--connect-rate-limit",
            "--trusted-proxies", "--console", "--bench-topics");
    }

    [TestCaseSource(nameof(EveryOption))]
    public void an_option_is_read_from_a_flag_with_a_separate_value(string flag, string value, OptionCheck check)
    {
        OptionsResult result = OptionsLoader.Load([flag, value], _ => null);

        result.Succeeded.Should().BeTrue(result.Error);
        check.Verify(result.Options!);
    }

    [TestCaseSource(nameof(EveryOption))]
    public void an_option_is_read_from_a_flag_with_an_equals_sign(string flag, string value, OptionCheck check)
    {
        OptionsResult result = OptionsLoader.Load([$"{flag}={value}"], _ => null);

        result.Succeeded.Should().BeTrue(result.Error);
        check.Verify(result.Options!);
    }

    [TestCaseSource(nameof(EveryOption))]
    public void an_option_is_read_from_its_environment_variable(string flag, string value, OptionCheck check)
    {
        string envVar = OptionDefinitions.FindByFlag(flag)!.EnvVar;

        OptionsResult result = OptionsLoader.Load([], name => name == envVar ? value : null);

        result.Succeeded.Should().BeTrue(result.Error);
        check.Verify(result.Options!);
    }

    [TestCaseSource(nameof(EveryOption))]
    public void an_option_is_read_from_the_config_file_as_a_string(string flag, string value, OptionCheck check)
    {
        string key = OptionDefinitions.FindByFlag(flag)!.ConfigKey;
        string config = WriteConfig($$"""{ "{{key}}": "{{value}}" }""");

        OptionsResult result = OptionsLoader.Load(["--config", config], _ => null);

        result.Succeeded.Should().BeTrue(result.Error);
        result.ConfigFile.Should().Be(config);
        check.Verify(result.Options!);
    }

    [Test]
    public void config_values_may_be_json_numbers_and_origins_a_json_array()
    {
        string config = WriteConfig("""
            {
              // comments and a trailing comma are tolerated in a hand-written file
              "port": 9001,
              "idleTimeout": 0.5,
              "maxBatch": 5,
              "allowedOrigins": ["https://a.example", "https://b.example"],
            }
            """);

        OptionsResult result = OptionsLoader.Load([$"--config={config}"], _ => null);

        result.Succeeded.Should().BeTrue(result.Error);
        result.Options!.Port.Should().Be(9001);
        result.Options.IdleTimeout.Should().Be(TimeSpan.FromMilliseconds(500));
        result.Options.MaxBatch.Should().Be(5);
        result.Options.AllowedOrigins.Should().Equal("https://a.example", "https://b.example");
    }

    [Test]
    public void the_config_file_can_be_named_by_the_environment()
    {
        string config = WriteConfig("""{ "port": 9002 }""");

        OptionsResult result = OptionsLoader.Load([], name => name == "CAMERARPC_CONFIG" ? config : null);

        result.Succeeded.Should().BeTrue(result.Error);
        result.Options!.Port.Should().Be(9002);
    }

    [Test]
    public void a_flag_beats_the_environment_which_beats_the_config_file()
    {
        string config = WriteConfig("""{ "port": 1111, "maxBatch": 11, "host": "config-host" }""");
        var env = new Dictionary<string, string>
        {
            ["CAMERARPC_PORT"] = "2222",
            ["CAMERARPC_MAX_BATCH"] = "22",
        };

        OptionsResult result = OptionsLoader.Load(["--config", config, "--port", "3333"], name => env.GetValueOrDefault(name));

        result.Succeeded.Should().BeTrue(result.Error);
        result.Options!.Port.Should().Be(3333, "the command line wins over everything");
        result.Options.MaxBatch.Should().Be(22, "the environment wins over the config file");
        result.Options.Host.Should().Be("config-host", "the config file wins over the default");
        result.Options.MaxConnections.Should().Be(10000, "nothing set it");
    }

    [Test]
    public void an_empty_environment_variable_counts_as_unset()
    {
        OptionsResult result = OptionsLoader.Load([], name => name == "CAMERARPC_PORT" ? string.Empty : null);

        result.Succeeded.Should().BeTrue(result.Error);
        result.Options!.Port.Should().Be(8002);
    }

    [Test]
    public void none_turns_off_the_log_file_the_auth_token_and_the_origins()
    {
        var env = new Dictionary<string, string> { ["CAMERARPC_AUTH_TOKEN"] = "from-env" };

        OptionsResult result = OptionsLoader.Load(
            ["--log-file", "none", "--auth-token", "none", "--allowed-origins", "none"], name => env.GetValueOrDefault(name));

        result.Succeeded.Should().BeTrue(result.Error);
        result.Options!.LogFile.Should().BeNull();
        result.Options.AuthToken.Should().BeNull("'none' on the command line clears a token from the environment");
        result.Options.AllowedOrigins.Should().BeEmpty();
    }

    [Test]
    public void a_star_allows_any_origin()
    {
        OptionsResult result = OptionsLoader.Load(["--allowed-origins", "*"], _ => null);

        result.Options!.AllowsAnyOrigin.Should().BeTrue();
        ServerOptions.Default.AllowsAnyOrigin.Should().BeFalse();
    }

    [TestCase("--port", "abc", "invalid value for --port: 'abc' (expected an integer 0-65535)")]
    [TestCase("--port", "65536", "invalid value for --port: '65536' (expected an integer 0-65535)")]
    [TestCase("--port", "-1", "invalid value for --port: '-1' (expected an integer 0-65535)")]
    [TestCase("--max-connections", "0", "invalid value for --max-connections: '0' (expected an integer >= 1)")]
    [TestCase("--max-batch", "1.5", "invalid value for --max-batch: '1.5' (expected an integer >= 1)")]
    [TestCase("--max-message-bytes", "", "invalid value for --max-message-bytes: '' (expected an integer from 1 to 1073741824 (1 GiB))")]
    [TestCase("--max-message-bytes", "2147483647", "invalid value for --max-message-bytes: '2147483647' (expected an integer from 1 to 1073741824 (1 GiB))")]
    [TestCase("--max-concurrency", "99999999999", "invalid value for --max-concurrency: '99999999999' (expected an integer >= 1)")]
    [TestCase("--idle-timeout", "-1", "invalid value for --idle-timeout: '-1' (expected a number of seconds 0-2147483)")]
    [TestCase("--shutdown-timeout", "forever", "invalid value for --shutdown-timeout: 'forever' (expected a number of seconds 0-2147483)")]
    [TestCase("--shutdown-timeout", "-Infinity", "invalid value for --shutdown-timeout: '-Infinity' (expected a number of seconds 0-2147483)")]
    [TestCase("--log-level", "verbose", "invalid value for --log-level: 'verbose' (expected debug, info, warning or error)")]
    [TestCase("--path", "ws", "invalid value for --path: 'ws' (expected a path starting with '/', without spaces, '?' or '#')")]
    [TestCase("--path", "/w s", "invalid value for --path: '/w s' (expected a path starting with '/', without spaces, '?' or '#')")]
    [TestCase("--host", " ", "invalid value for --host: ' ' (expected a non-empty host name or address)")]
    [TestCase("--auth-token", "", "invalid value for --auth-token: '' (expected a non-empty token or 'none')")]
    [TestCase("--allowed-origins", ",", "invalid value for --allowed-origins: ',' (expected a comma-separated list of origins, '*' or 'none')")]
    [TestCase("--max-subscriptions", "-1", "invalid value for --max-subscriptions: '-1' (expected an integer >= 0)")]
    [TestCase("--compression", "yes", "invalid value for --compression: 'yes' (expected 'on' or 'off')")]
    [TestCase("--rate-limit", "1.5", "invalid value for --rate-limit: '1.5' (expected an integer >= 0)")]
    [TestCase("--trusted-proxies", "10.0.0.1/8", "invalid value for --trusted-proxies: '10.0.0.1/8' (expected a comma-separated list of IP addresses or CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8) or 'none')")]
    [TestCase("--trusted-proxies", "proxy.local", "invalid value for --trusted-proxies: 'proxy.local' (expected a comma-separated list of IP addresses or CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8) or 'none')")]
    [TestCase("--console", "", "invalid value for --console: '' (expected 'on' or 'off')")]
    [TestCase("--bench-topics", "true", "invalid value for --bench-topics: 'true' (expected 'on' or 'off')")]
    public void a_bad_flag_value_is_an_error_naming_the_option(string flag, string value, string expected)
    {
        OptionsResult result = OptionsLoader.Load([$"{flag}={value}"], _ => null);

        result.Succeeded.Should().BeFalse();
        result.Error.Should().Be(expected);
    }

    [Test]
    public void a_bad_environment_value_names_the_variable_and_the_option()
    {
        OptionsResult result = OptionsLoader.Load([], name => name == "CAMERARPC_PORT" ? "abc" : null);

        result.Error.Should().Be("invalid value for CAMERARPC_PORT (--port): 'abc' (expected an integer 0-65535)");
    }

    [Test]
    public void a_bad_config_value_names_the_key_the_file_and_the_option()
    {
        string config = WriteConfig("""{ "port": 70000 }""");

        OptionsResult result = OptionsLoader.Load(["--config", config], _ => null);

        result.Error.Should().Be($"invalid value for 'port' in config file '{config}' (--port): '70000' (expected an integer 0-65535)");
    }

    [TestCase("""{ "port": true }""", "'true'")]
    [TestCase("""{ "port": null }""", "'null'")]
    [TestCase("""{ "port": [8002] }""", "'[8002]'")]
    [TestCase("""{ "allowedOrigins": [1] }""", "'[1]'")]
    public void a_config_value_of_the_wrong_json_kind_is_an_error(string json, string shownValue)
    {
        string config = WriteConfig(json);

        OptionsResult result = OptionsLoader.Load(["--config", config], _ => null);

        result.Succeeded.Should().BeFalse();
        result.Error.Should().StartWith("invalid value for '").And.Contain(shownValue);
    }

    [Test]
    public void an_unknown_option_is_an_error()
    {
        OptionsResult result = OptionsLoader.Load(["--port", "1", "--max-conections", "5"], _ => null);

        result.Error.Should().Be("unknown option '--max-conections' (see --help)");
    }

    [Test]
    public void a_stray_argument_is_an_error()
    {
        OptionsResult result = OptionsLoader.Load(["8002"], _ => null);

        result.Error.Should().Be("unexpected argument '8002'");
    }

    [TestCase("--port")]
    [TestCase("--port", "--host", "x")]
    public void a_flag_without_its_value_is_an_error(params string[] args)
    {
        OptionsResult result = OptionsLoader.Load(args, _ => null);

        result.Error.Should().Be("missing value for --port");
    }

    [Test]
    public void an_unknown_config_key_is_an_error()
    {
        string config = WriteConfig("""{ "maxConections": 5 }""");

        OptionsResult result = OptionsLoader.Load(["--config", config], _ => null);

        result.Error.Should().Be($"unknown key 'maxConections' in config file '{config}'");
    }

    [TestCase("{ \"port\": ", "invalid JSON at line 1")]
    [TestCase("{\n  \"port\": 1\n  \"host\": \"x\"\n}", "invalid JSON at line 3")]
    [TestCase("[1, 2]", "expected a JSON object of options")]
    [TestCase("", "invalid JSON at line 1")]
    public void a_malformed_config_file_is_an_error_saying_where(string json, string reason)
    {
        string config = WriteConfig(json);

        OptionsResult result = OptionsLoader.Load(["--config", config], _ => null);

        result.Error.Should().StartWith($"malformed config file '{config}': {reason}");
    }

    [Test]
    public void a_missing_config_file_is_an_error()
    {
        string config = Path.Combine(_folder, "absent.json");

        OptionsResult result = OptionsLoader.Load(["--config", config], _ => null);

        result.Error.Should().StartWith($"cannot read config file '{config}': ");
    }

    [Test]
    public void the_config_file_is_checked_even_when_flags_override_its_values()
    {
        string config = WriteConfig("""{ "port": "abc" }""");

        OptionsResult result = OptionsLoader.Load(["--config", config, "--port", "1"], _ => null);

        result.Succeeded.Should().BeFalse("a broken config file is a mistake worth stopping for");
    }

    private string WriteConfig(string json)
    {
        string path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>Carries an assertion on the internal options type through a public test method's signature.</summary>
    public sealed class OptionCheck
    {
        private readonly Action<ServerOptions> _check;

        internal OptionCheck(Action<ServerOptions> check) => _check = check;

        internal void Verify(ServerOptions options) => _check(options);
    }
}
