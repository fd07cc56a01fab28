using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Commands;
using FluentAssertions;
using NUnit.Framework;
using CameraRpc.Server.Tools.Cli;

namespace CameraRpc.Tests.Tools;

/// <summary>Argument parsing of call, probe and bench: defaults, and errors that name the culprit.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class CommandArgumentsTests
{
    [Test]
    public void call_defaults_to_the_contract_url_and_a_request()
    {
        CallCommand.TryParseOptions(["ping"], out var options, out _).Should().BeTrue();

        options!.Method.Should().Be("ping");
        options.ParamsJson.Should().BeNull();
        options.Url.Should().Be(new Uri("ws://127.0.0.1:8002/ws"));
        options.Notify.Should().BeFalse();
    }

    [Test]
    public void call_takes_params_url_and_notify_in_any_order()
    {
        CallCommand.TryParseOptions(["--notify", "echo", "--url=http://localhost:9/rpc", "{ \"message\" : 1 }"], out var options, out _)
            .Should().BeTrue();

        options!.Method.Should().Be("echo");
        options.ParamsJson.Should().Be("{\"message\":1}", "params are sent compact");
        options.Url.Scheme.Should().Be("http");
        options.Notify.Should().BeTrue();
    }

    [TestCase(new string[0], "METHOD is missing")]
    [TestCase(new[] { "ping", "42" }, "array or object")]
    [TestCase(new[] { "ping", "[1," }, "not valid JSON")]
    [TestCase(new[] { "ping", "[]", "extra" }, "too many arguments")]
    [TestCase(new[] { "ping", "--url" }, "missing value for --url")]
    [TestCase(new[] { "ping", "--url", "ftp://x/" }, "--url")]
    [TestCase(new[] { "ping", "--bogus" }, "unknown option '--bogus'")]
    public void call_rejects_bad_arguments_with_a_reason(string[] args, string reason)
    {
        CallCommand.TryParseOptions(args, out _, out string? error).Should().BeFalse();
        error.Should().Contain(reason);
    }

    [Test]
    public void probe_defaults_to_the_full_check_list()
    {
        ProbeCommand.TryParseOptions([], out var options, out _).Should().BeTrue();

        options!.Simple.Should().BeFalse();
        options.Url.Should().Be(new Uri(CommandArguments.DefaultUrl));
    }

    [Test]
    public void probe_simple_and_url_are_read()
    {
        ProbeCommand.TryParseOptions(["--simple", "--url", "ws://10.0.0.1:1/x"], out var options, out _).Should().BeTrue();

        options!.Simple.Should().BeTrue();
        options.Url.Should().Be(new Uri("ws://10.0.0.1:1/x"));
    }

    [TestCase(new[] { "now" }, "unexpected argument")]
    [TestCase(new[] { "--simple=yes" }, "takes no value")]
    [TestCase(new[] { "--url", "not a url" }, "--url")]
    public void probe_rejects_bad_arguments_with_a_reason(string[] args, string reason)
    {
        ProbeCommand.TryParseOptions(args, out _, out string? error).Should().BeFalse();
        error.Should().Contain(reason);
    }

    [Test]
    public void bench_defaults_to_ten_connections_one_in_flight_ten_seconds_of_ping_after_two_of_warm_up()
    {
        BenchCommand.TryParseOptions([], out LoadOptions? options, out bool json, out _).Should().BeTrue();

        options!.Connections.Should().Be(10, "--help and the README promise 10");
        options.Pipeline.Should().Be(1);
        options.Duration.Should().Be(TimeSpan.FromSeconds(10), "--help and the README promise 10 s");
        options.Warmup.Should().Be(TimeSpan.FromSeconds(2), "--help and the README promise 2 s");
        options.Method.Should().Be("ping");
        options.ParamsJson.Should().BeNull();
        options.ServerPid.Should().BeNull();
        options.Url.Should().Be(new Uri(CommandArguments.DefaultUrl));
        options.MaxPendingConnects.Should().BeLessThan(500, "HttpListener's accept backlog is 500");
        json.Should().BeFalse();
    }

    [Test]
    public void bench_reads_every_option()
    {
        string[] args =
        [
            "--url", "ws://127.0.0.1:9/ws", "--connections", "100", "--pipeline", "16", "--duration", "2.5",
            "--warmup", "0", "--method", "echo", "--params", "[\"hi\"]", "--json", "--server-pid", "1234",
        ];

        BenchCommand.TryParseOptions(args, out LoadOptions? options, out bool json, out _).Should().BeTrue();

        options!.Connections.Should().Be(100);
        options.Pipeline.Should().Be(16);
        options.Duration.Should().Be(TimeSpan.FromSeconds(2.5));
        options.Warmup.Should().Be(TimeSpan.Zero);
        options.Method.Should().Be("echo");
        options.ParamsJson.Should().Be("[\"hi\"]");
        options.ServerPid.Should().Be(1234);
        json.Should().BeTrue();
    }

    [TestCase(new[] { "--connections", "0" }, "--connections")]
    [TestCase(new[] { "--connections", "many" }, "--connections")]
    [TestCase(new[] { "--pipeline", "-1" }, "--pipeline")]
    [TestCase(new[] { "--duration", "0" }, "--duration")]
    [TestCase(new[] { "--warmup", "soon" }, "--warmup")]
    [TestCase(new[] { "--params", "\"text\"" }, "--params")]
    [TestCase(new[] { "--url", "http://127.0.0.1:8002/ws" }, "ws://")]
    [TestCase(new[] { "--url", "wss://127.0.0.1:8002/ws" }, "ws://")]
    [TestCase(new[] { "--server-pid", "0" }, "--server-pid")]
    [TestCase(new[] { "--connections", "1", "--connections", "2" }, "--connections given twice")]
    public void bench_rejects_bad_values_naming_the_option(string[] args, string reason)
    {
        BenchCommand.TryParseOptions(args, out _, out _, out string? error).Should().BeFalse();
        error.Should().Contain(reason);
    }

    [Test]
    public void bench_requests_are_a_fixed_prefix_followed_by_the_id()
    {
        byte[] prefix = LoadGenerator.BuildRequestPrefix("echo", "[\"a\"]");

        System.Text.Encoding.UTF8.GetString(prefix).Should().Be("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"a\"],\"id\":");
    }

    [TestCase("ping", null, "\"pong\"")]
    [TestCase("echo", "[{\"x\": 1}]", "{\"x\":1}")]
    [TestCase("echo", "{\"message\": \"hi\"}", "\"hi\"")]
    [TestCase("other", "[1]", null)]
    public void bench_knows_the_correct_result_of_the_built_in_methods(string method, string? paramsJson, string? expected)
    {
        byte[]? result = LoadGenerator.ExpectedResult(method, paramsJson);

        (result is null ? null : System.Text.Encoding.UTF8.GetString(result)).Should().Be(expected);
    }

    [Test]
    public void bench_compression_is_off_unless_asked_for()
    {
        BenchCommand.TryParseOptions([], out LoadOptions? plain, out _, out _).Should().BeTrue();
        BenchCommand.TryParseOptions(["--compression"], out LoadOptions? compressed, out _, out _).Should().BeTrue();

        plain!.Compression.Should().BeFalse("the self-framed path is the default: it keeps the bench off the critical path");
        compressed!.Compression.Should().BeTrue();
    }

    [Test]
    public void watch_takes_a_topic_params_url_and_count()
    {
        WatchCommand.TryParseOptions(["camera.controls", "{ \"device\": 0 }", "--url", "wss://cam.example/ws", "--count=3"], out var options, out _).Should().BeTrue();

        options!.Topic.Should().Be("camera.controls");
        options.ParamsJson.Should().Be("{\"device\":0}", "params are sent compact");
        options.Url.Should().Be(new Uri("wss://cam.example/ws"));
        options.Count.Should().Be(3);
    }

    [Test]
    public void watch_defaults_to_the_contract_url_and_no_count()
    {
        WatchCommand.TryParseOptions(["server.stats"], out var options, out _).Should().BeTrue();

        options!.Url.Should().Be(new Uri(CommandArguments.DefaultUrl));
        options.ParamsJson.Should().BeNull();
        options.Count.Should().BeNull("without --count it runs until Ctrl+C or the server's end");
    }

    [TestCase(new string[0], "TOPIC is missing")]
    [TestCase(new[] { "" }, "TOPIC is empty")]
    [TestCase(new[] { "t", "7" }, "array or object")]
    [TestCase(new[] { "t", "[]", "x" }, "too many arguments")]
    [TestCase(new[] { "t", "--url", "http://127.0.0.1:8002/ws" }, "subscriptions need a WebSocket")]
    [TestCase(new[] { "t", "--count", "0" }, "--count")]
    [TestCase(new[] { "t", "--count", "all" }, "--count")]
    [TestCase(new[] { "t", "--notify" }, "unknown option '--notify'")]
    public void watch_rejects_bad_arguments_with_a_reason(string[] args, string reason)
    {
        WatchCommand.TryParseOptions(args, out _, out string? error).Should().BeFalse();
        error.Should().Contain(reason);
    }

    [Test]
    public void the_cpu_time_of_a_process_is_read_and_a_missing_process_has_none()
    {
        ServerProcessCpu.ReadCpuSeconds(Environment.ProcessId).Should().BePositive("this test process has used some CPU");
        ServerProcessCpu.ReadCpuSeconds(int.MaxValue).Should().BeNull("no such process");
    }
}
