using CameraRpc.Server.Cli;
using CameraRpc.Server.Tools.Cli;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Commands;
using CameraRpc.Server.Configuration;
using CameraRpc.Server.Tools.WebSockets;

namespace CameraRpc.Tests.Tools;

/// <summary>
/// How call, probe and bench read CAMERARPC_AUTH_TOKEN: as the server reads it, and never quoting it.
/// (Sending it is tested end to end in <see cref="AuthTokenToolTests"/> and in <see cref="WebSocketFramingTests"/>.)
/// </summary>
[Parallelizable(ParallelScope.Self)]
public sealed class BearerTokenTests
{
    [Test]
    public void the_client_commands_read_the_variable_the_servers_auth_token_reads()
    {
        OptionDefinitions.All.Should().ContainSingle(option => option.Flag == "--auth-token")
            .Which.EnvVar.Should().Be(BearerToken.EnvironmentVariable, "an operator who sources the service's env file must send the server's token");
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    [TestCase("none")]
    [TestCase(" NONE ")]
    public void unset_empty_or_none_is_no_token_as_for_the_server(string? value)
    {
        BearerToken.TryParse(value, out string? token, out string? error).Should().BeTrue();

        token.Should().BeNull();
        error.Should().BeNull();
    }

    [TestCase("s3cret")]
    [TestCase("a.b-c_d~e+f/g=")]
    [TestCase("with inner space")]
    public void any_printable_ascii_is_a_token_sent_as_it_is(string value)
    {
        BearerToken.TryParse(value, out string? token, out _).Should().BeTrue();

        token.Should().Be(value);
        BearerToken.HeaderValue(token!).Should().Be("Bearer " + value);
    }

    [TestCase("s3cret\r\nX-Injected: 1")]
    [TestCase("s3cret\n")]
    [TestCase("tab\there")]
    [TestCase("s3crét")]
    public void a_token_that_cannot_go_into_a_header_is_refused_without_quoting_it(string value)
    {
        BearerToken.TryParse(value, out string? token, out string? error).Should().BeFalse();

        token.Should().BeNull();
        error.Should().Contain("CAMERARPC_AUTH_TOKEN").And.NotContain(value).And.NotContain("s3cr", "the token is a secret");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task call_with_an_unusable_token_exits_1_before_connecting(CancellationToken cancellationToken)
    {
        var stderr = new StringWriter();

        // Nothing listens on port 9 of loopback: had the call tried to connect, it would exit 2.
        int exitCode = await CallCommand.RunAsync(
            ["ping", "--url", "ws://127.0.0.1:9/ws"], "bad\ntoken", new StringWriter(), stderr, TimeSpan.FromSeconds(5), cancellationToken);

        exitCode.Should().Be(ExitCodes.UsageError, "a bad setting is exit 1, like a bad argument, not 'cannot connect'");
        stderr.ToString().Trim().Should().Be("call: CAMERARPC_AUTH_TOKEN holds a character that cannot go into an HTTP header (only printable ASCII can)");
    }

    [Test]
    public void help_tells_how_the_client_commands_send_a_token()
    {
        Usage.Text.Should().Contain("call, probe, bench and watch against a server with --auth-token: set CAMERARPC_AUTH_TOKEN")
            .And.Contain("'Authorization: Bearer TOKEN' on the WebSocket upgrade and on every HTTP POST")
            .And.Contain($"answers 401 is exit {ExitCodes.CannotConnect}");
    }
}
