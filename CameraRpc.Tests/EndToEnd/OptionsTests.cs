using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// Options of the real executable (CONTRACT section 1): command line &gt; CAMERARPC_* environment &gt;
/// --config file, seen through the server's behaviour; startup failures; --help and --version.
/// </summary>
[NonParallelizable]
public sealed class OptionsTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "camerarpc-e2e-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [TestCase(null, null, 2, TestName = "the_config_file_sets_an_option")]
    [TestCase("3", null, 3, TestName = "the_environment_beats_the_config_file")]
    [TestCase("3", "4", 4, TestName = "the_command_line_beats_the_environment_and_the_config_file")]
    [TestCase(null, "4", 4, TestName = "the_command_line_beats_the_config_file")]
    [CancelAfter(30_000)]
    public async Task option_precedence(string? environmentValue, string? flagValue, int expectedMaxBatch, CancellationToken cancellationToken)
    {
        string config = WriteConfig("""{"maxBatch": 2}""");
        var args = new List<string> { "--config", config };
        if (flagValue is not null)
        {
            args.AddRange(["--max-batch", flagValue]);
        }

        var environment = new Dictionary<string, string>();
        if (environmentValue is not null)
        {
            environment["CAMERARPC_MAX_BATCH"] = environmentValue;
        }

        await using ServerProcess server = await ServerProcess.StartAsync(args, environment, cancellationToken);
        string batch = "[" + string.Join(",", Enumerable.Range(1, 5).Select(RpcMessages.Ping)) + "]";

        HttpAnswer answer = await HttpExchange.PostAsync(server.HttpUri(), batch, cancellationToken);

        answer.Body.Should().Be(
            string.Create(CultureInfo.InvariantCulture, $$$"""{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":{"limit":"max-batch","max":{{{expectedMaxBatch}}},"received":5}},"id":null}"""),
            $"the batch limit in force is {expectedMaxBatch} (command line > environment > config file)");
    }

    [Test, CancelAfter(30_000)]
    public async Task the_path_from_the_config_file_moves_the_endpoint(CancellationToken cancellationToken)
    {
        string config = WriteConfig("""{"path": "/rpc"}""");
        await using ServerProcess server = await ServerProcess.StartAsync(["--config", config], null, cancellationToken);

        (await HttpExchange.PostAsync(server.HttpUri("/rpc"), RpcMessages.Ping(1), cancellationToken)).Body
            .Should().Be(RpcMessages.Pong(1), "the JSON-RPC endpoint is at the configured path");
        (await HttpExchange.PostAsync(server.HttpUri("/ws"), RpcMessages.Ping(2), cancellationToken)).Status
            .Should().Be(404, "the default path is no longer an endpoint");
        server.Lines.Should().Contain(line => line.Contains($"Server started successfully at ws://127.0.0.1:{server.Port}/rpc", StringComparison.Ordinal), "the startup line shows the path");
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/rpc"), cancellationToken);
        (await client.CallAsync(RpcMessages.Ping(3), cancellationToken)).Should().Be(RpcMessages.Pong(3), "WebSockets upgrade at the configured path");
    }

    [Test, CancelAfter(30_000)]
    public async Task the_path_from_the_environment_beats_the_config_file(CancellationToken cancellationToken)
    {
        string config = WriteConfig("""{"path": "/from-file"}""");
        await using ServerProcess server = await ServerProcess.StartAsync(
            ["--config", config], new Dictionary<string, string> { ["CAMERARPC_PATH"] = "/from-env" }, cancellationToken);

        (await HttpExchange.PostAsync(server.HttpUri("/from-env"), RpcMessages.Ping(1), cancellationToken)).Body
            .Should().Be(RpcMessages.Pong(1), "the environment beats the config file");
        (await HttpExchange.PostAsync(server.HttpUri("/from-file"), RpcMessages.Ping(1), cancellationToken)).Status
            .Should().Be(404, "the config file's path lost");
    }

    [TestCase(new[] { "--max-batch", "abc" }, null, "--max-batch", TestName = "a_bad_value_on_the_command_line_exits_1_with_one_line_naming_the_option")]
    [TestCase(new[] { "--port", "70000" }, null, "--port", TestName = "a_port_out_of_range_exits_1_with_one_line_naming_the_option")]
    [TestCase(new[] { "--log-level", "loud" }, null, "--log-level", TestName = "a_bad_log_level_exits_1_with_one_line_naming_the_option")]
    [TestCase(new string[0], "CAMERARPC_MAX_CONNECTIONS", "CAMERARPC_MAX_CONNECTIONS", TestName = "a_bad_value_in_the_environment_exits_1_with_one_line_naming_the_variable")]
    [TestCase(new[] { "--bogus", "1" }, null, "--bogus", TestName = "an_unknown_option_exits_1_with_one_line_naming_it")]
    [CancelAfter(30_000)]
    public async Task a_bad_option(string[] args, string? badVariable, string named, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string>();
        if (badVariable is not null)
        {
            environment[badVariable] = "-1";
        }

        (int exitCode, IReadOnlyList<string> lines) = await ServerProcess.RunToExitAsync(args, environment, cancellationToken);

        exitCode.Should().Be(1, "a bad option is a startup failure");
        lines.Should().ContainSingle("the failure is one clear line").Which.Should().Contain(named, "the line names what is wrong");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_bad_value_in_the_config_file_exits_1_with_one_line_naming_the_option(CancellationToken cancellationToken)
    {
        string config = WriteConfig("""{"maxBatch": "many"}""");

        (int exitCode, IReadOnlyList<string> lines) = await ServerProcess.RunToExitAsync(["--config", config], null, cancellationToken);

        exitCode.Should().Be(1, "a bad option is a startup failure");
        lines.Should().ContainSingle("the failure is one clear line").Which.Should().Contain("maxBatch", "the line names the key").And.Contain(config, "and the file");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_busy_port_exits_1_with_one_clear_line(CancellationToken cancellationToken)
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;

        (int exitCode, IReadOnlyList<string> lines) = await ServerProcess.RunToExitAsync(
            ["--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--log-file", "none"], null, cancellationToken);

        exitCode.Should().Be(1, "a port that cannot be bound is a startup failure");
        lines.Where(line => line.Contains("cannot listen", StringComparison.Ordinal)).Should()
            .ContainSingle("the failure is one line (in the log's format, so the log file has it too)")
            .Which.Should().Contain($"127.0.0.1:{port}", "the line names the address").And.Contain("in use", "and says why");
    }

    [Test, CancelAfter(30_000)]
    public async Task help_prints_the_usage_and_exits_0(CancellationToken cancellationToken)
    {
        (int exitCode, IReadOnlyList<string> lines) = await ServerProcess.RunToExitAsync(["--help"], null, cancellationToken);

        exitCode.Should().Be(0, "--help is a success");
        string text = string.Join("\n", lines);
        foreach (string option in new[] { "--host", "--port", "--path", "--max-message-bytes", "--auth-token", "--allowed-origins", "--idle-timeout", "--shutdown-timeout" })
        {
            text.Should().Contain(option, "the usage lists every option");
        }
    }

    [TestCase("--version", TestName = "version_prints_the_version_and_exits_0")]
    [TestCase("serve --version", TestName = "serve_version_prints_the_version_and_exits_0")]
    [CancelAfter(30_000)]
    public async Task version(string commandLine, CancellationToken cancellationToken)
    {
        (int exitCode, IReadOnlyList<string> lines) = await ServerProcess.RunToExitAsync(commandLine.Split(' '), null, cancellationToken);

        exitCode.Should().Be(0, "--version is a success");
        lines.Should().ContainSingle("the version is one line").Which.Should().MatchRegex(@"^CameraRpc\.Server \d+\.\d+", "it names the program and its version");
    }

    private string WriteConfig(string json)
    {
        string path = Path.Combine(_folder, "camerarpc.json");
        File.WriteAllText(path, json);
        return path;
    }
}
