using System.Net.WebSockets;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd.Access;

/// <summary>
/// <c>--tokens-file</c> against the real executable (contract section 8): startup failures, the
/// warning about a file others can read, the token's name in the log, and SIGHUP reloads.
/// </summary>
[NonParallelizable]
public sealed class TokensFileProcessTests
{
    private const int SIGHUP = 1;

    [TestCase(null, "cannot read tokens file", TestName = "a_missing_tokens_file_exits_1_with_one_line")]
    [TestCase("{\"tokens\":[", "is not valid", TestName = "a_tokens_file_that_is_not_json_exits_1_with_one_line")]
    [TestCase("{\"tokens\":[{\"name\":\"a\",\"sha256\":\"12ab\",\"scopes\":[]}]}", "token 'a' has a sha256 that is not 64 hex digits", TestName = "a_bad_hash_exits_1_with_one_line")]
    [TestCase("DUPLICATE", "the name 'twice' is given twice", TestName = "a_duplicate_name_exits_1_with_one_line")]
    [CancelAfter(30_000)]
    public async Task startup_failure(string? contents, string expected, CancellationToken cancellationToken)
    {
        string path = contents switch
        {
            null => Path.Combine(Path.GetTempPath(), "camerarpc-missing-" + Guid.NewGuid().ToString("N") + ".json"),
            "DUPLICATE" => TokensFiles.Write("{\"tokens\":[" + TokensFiles.Entry("twice", "a") + "," + TokensFiles.Entry("twice", "b") + "]}"),
            _ => TokensFiles.Write(contents),
        };

        try
        {
            (int exitCode, IReadOnlyList<string> lines) = await ServerProcess.RunToExitAsync(["--tokens-file", path], null, cancellationToken);
            exitCode.Should().Be(1, "no server starts without the tokens the operator meant to give");
            lines.Should().ContainSingle("the failure is one clear line").Which.Should().Contain(expected).And.Contain(path, "the line names the file");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task a_tokens_file_readable_by_others_is_a_warning_and_the_log_names_the_token_never_shows_it(CancellationToken cancellationToken)
    {
        string path = TokensFiles.Write(TokensFiles.Camera(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        try
        {
            await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--tokens-file", path);
            server.Lines.Should().Contain(line => line.Contains(" - WARNING - ", StringComparison.Ordinal) && line.Contains("readable by other users", StringComparison.Ordinal));

            (await HttpExchange.UpgradeStatusAsync(server.WebSocketUri, cancellationToken)).Should().Be(401, "a token is required");
            await using RpcTestClient client = await RpcTestClient.ConnectAsync(
                server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + TokensFiles.ViewerToken));
            (await client.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1));

            await server.WaitForLineAsync(line => line.Contains("Client connected: ", StringComparison.Ordinal) && line.Contains("as 'wall-display'", StringComparison.Ordinal), cancellationToken);
            server.Lines.Should().NotContain(line => line.Contains(TokensFiles.ViewerToken, StringComparison.Ordinal), "the log names the token, never shows it");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task a_topic_s_scope_is_checked_at_rpc_subscribe(CancellationToken cancellationToken)
    {
        string path = TokensFiles.Write(TokensFiles.Camera());
        try
        {
            await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--tokens-file", path);
            await using RpcTestClient viewer = await RpcTestClient.ConnectAsync(
                server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + TokensFiles.ViewerToken));
            await using RpcTestClient console = await RpcTestClient.ConnectAsync(
                server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + TokensFiles.OperatorToken));
            const string Subscribe = """{"jsonrpc":"2.0","method":"rpc.subscribe","params":{"topic":"server.stats"},"id":1}""";

            (await viewer.CallAsync(Subscribe, cancellationToken))
                .Should().Be("""{"jsonrpc":"2.0","error":{"code":-32001,"message":"Forbidden","data":{"scope":"server.read"}},"id":1}""", "server.stats needs server.read, which the wall display lacks");
            (await viewer.CallAsync(RpcMessages.Ping(2), cancellationToken)).Should().Be(RpcMessages.Pong(2), "the connection stays open");
            (await console.CallAsync(Subscribe, cancellationToken)).Should().StartWith("{\"jsonrpc\":\"2.0\",\"result\":\"", "the operator holds server.read");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task sighup_closes_connections_of_a_revoked_token_with_1008_and_keeps_the_others(CancellationToken cancellationToken)
    {
        string path = TokensFiles.Write(TokensFiles.Camera());
        try
        {
            await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--tokens-file", path);
            await using RpcTestClient viewer = await RpcTestClient.ConnectAsync(
                server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + TokensFiles.ViewerToken));
            await using RpcTestClient console = await RpcTestClient.ConnectAsync(
                server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + TokensFiles.OperatorToken));
            (await viewer.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1));

            // The wall display's token is revoked; the operator's stays.
            TokensFiles.Rewrite(path, "{\"tokens\":[" + TokensFiles.Entry("operator-console", TokensFiles.OperatorToken, "camera.read") + "]}");
            server.Signal(SIGHUP);

            (await viewer.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.PolicyViolation, "1008: its token is gone");
            (await console.CallAsync(RpcMessages.Ping(2), cancellationToken)).Should().Be(RpcMessages.Pong(2), "a token still in the file keeps its connections");
            await server.WaitForLineAsync(line => line.Contains("Tokens reloaded from", StringComparison.Ordinal) && line.Contains("1 connection(s) whose token is gone closed", StringComparison.Ordinal), cancellationToken);
            (await HttpExchange.UpgradeStatusAsync(server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + TokensFiles.ViewerToken)))
                .Should().Be(401, "the revoked token no longer opens a connection");
            server.ProcessId.Should().BePositive();
            server.Lines.Should().NotContain(line => line.Contains("shutting down", StringComparison.OrdinalIgnoreCase), "SIGHUP reloads; it does not stop the server");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task sighup_with_a_broken_file_is_an_error_line_and_the_old_tokens_stay(CancellationToken cancellationToken)
    {
        string path = TokensFiles.Write(TokensFiles.Camera());
        try
        {
            await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--tokens-file", path);
            await using RpcTestClient viewer = await RpcTestClient.ConnectAsync(
                server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + TokensFiles.ViewerToken));

            TokensFiles.Rewrite(path, "{\"tokens\":[{\"name\":");
            server.Signal(SIGHUP);

            string error = await server.WaitForLineAsync(line => line.Contains(" - ERROR - ", StringComparison.Ordinal), cancellationToken);
            error.Should().Contain("Tokens not reloaded, the previous ones stay").And.Contain(path);
            (await viewer.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "the connection is untouched");
            (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(2), cancellationToken, TokensFiles.Bearer(TokensFiles.ViewerToken)))
                .Status.Should().Be(200, "the old tokens are still accepted");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
