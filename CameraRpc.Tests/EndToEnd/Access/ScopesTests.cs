using System.Net.WebSockets;
using CameraRpc.Server.Configuration;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd.Access;

/// <summary>
/// Scopes over real sockets (contract section 8): the server hosted in the test process with this
/// project's scoped fixture methods (<c>access.getExposure</c> needs <c>camera.read</c>,
/// <c>access.setExposure</c> needs <c>camera.write</c>), a tokens file with a viewer and an operator.
/// </summary>
[NonParallelizable]
public sealed class ScopesTests
{
    private const string SetExposure = """{"jsonrpc":"2.0","method":"access.setExposure","params":[2.5],"id":1}""";
    private const string Forbidden = """{"jsonrpc":"2.0","error":{"code":-32001,"message":"Forbidden","data":{"scope":"camera.write"}},"id":1}""";

    [Test, CancelAfter(30_000)]
    public async Task over_websocket_the_viewer_is_forbidden_what_the_operator_may_do_and_its_connection_stays_open(CancellationToken cancellationToken)
    {
        string path = TokensFiles.Write(TokensFiles.Camera());
        try
        {
            await using InProcessServer server = InProcessServer.Start(o => o with { TokensFile = path });
            await using RpcTestClient viewer = await RpcTestClient.ConnectAsync(
                server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + TokensFiles.ViewerToken));
            await using RpcTestClient console = await RpcTestClient.ConnectAsync(
                new Uri(server.WebSocketUri + "?access_token=" + TokensFiles.OperatorToken), cancellationToken);

            (await viewer.CallAsync(SetExposure, cancellationToken)).Should().Be(Forbidden);
            (await viewer.CallAsync("""{"jsonrpc":"2.0","method":"access.getExposure","id":2}""", cancellationToken))
                .Should().Be("""{"jsonrpc":"2.0","result":1.5,"id":2}""", "the connection stays open after -32001 and the viewer may read");
            (await console.CallAsync(SetExposure, cancellationToken)).Should().Be("""{"jsonrpc":"2.0","result":2.5,"id":1}""");
            viewer.Socket.State.Should().Be(WebSocketState.Open);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task over_http_and_in_a_batch_one_forbidden_call_does_not_fail_the_others(CancellationToken cancellationToken)
    {
        string path = TokensFiles.Write(TokensFiles.Camera());
        try
        {
            await using InProcessServer server = InProcessServer.Start(o => o with { TokensFile = path });
            HttpAnswer single = await HttpExchange.PostAsync(server.HttpUri(), SetExposure, cancellationToken, TokensFiles.Bearer(TokensFiles.ViewerToken));
            single.Status.Should().Be(200);
            single.Body.Should().Be(Forbidden);

            HttpAnswer batch = await HttpExchange.PostAsync(server.HttpUri(),
                """[{"jsonrpc":"2.0","method":"access.getExposure","id":1},{"jsonrpc":"2.0","method":"access.setExposure","params":[3],"id":2},{"jsonrpc":"2.0","method":"access.open","id":3}]""",
                cancellationToken, TokensFiles.Bearer(TokensFiles.ViewerToken));
            batch.Body.Should().Be("""[{"jsonrpc":"2.0","result":1.5,"id":1},{"jsonrpc":"2.0","error":{"code":-32001,"message":"Forbidden","data":{"scope":"camera.write"}},"id":2},{"jsonrpc":"2.0","result":"open","id":3}]""");

            (await HttpExchange.PostAsync(server.HttpUri(), SetExposure, cancellationToken, TokensFiles.Bearer(TokensFiles.OperatorToken)))
                .Body.Should().Be("""{"jsonrpc":"2.0","result":2.5,"id":1}""");
            (await HttpExchange.PostAsync(server.HttpUri(), SetExposure, cancellationToken, TokensFiles.Bearer("not-a-token"))).Status.Should().Be(401);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task the_auth_token_has_every_scope_and_without_token_options_no_scope_is_checked(CancellationToken cancellationToken)
    {
        await using (InProcessServer server = InProcessServer.Start(o => o with { AuthToken = "s3cret" }))
        {
            (await HttpExchange.PostAsync(server.HttpUri(), SetExposure, cancellationToken, TokensFiles.Bearer("s3cret")))
                .Body.Should().Be("""{"jsonrpc":"2.0","result":2.5,"id":1}""");
        }

        await using (InProcessServer open = InProcessServer.Start(o => o with { RateLimit = 100 }))
        {
            await using RpcTestClient client = await RpcTestClient.ConnectAsync(open.WebSocketUri, cancellationToken);
            (await client.CallAsync(SetExposure, cancellationToken)).Should().Be("""{"jsonrpc":"2.0","result":2.5,"id":1}""");
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task rpc_discover_shows_the_scope_a_method_needs(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        string document = (await HttpExchange.PostAsync(server.HttpUri(), """{"jsonrpc":"2.0","method":"rpc.discover","id":1}""", cancellationToken)).Body;
        document.Should().Contain("\"name\":\"access.setExposure\"").And.Contain(",\"x-scope\":\"camera.write\"}");
    }

    [Test, CancelAfter(30_000)]
    public async Task after_a_reload_a_token_keeps_its_connection_and_its_new_scopes_apply_from_the_next_call(CancellationToken cancellationToken)
    {
        string path = TokensFiles.Write(TokensFiles.Camera());
        try
        {
            await using InProcessServer server = InProcessServer.Start(o => o with { TokensFile = path });
            await using RpcTestClient viewer = await RpcTestClient.ConnectAsync(
                server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + TokensFiles.ViewerToken));
            (await viewer.CallAsync(SetExposure, cancellationToken)).Should().Be(Forbidden);

            TokensFiles.Rewrite(path, TokensFiles.Camera("camera.read,camera.write"));
            server.Server.Tokens.Reload().Should().BeTrue();

            (await viewer.CallAsync(SetExposure, cancellationToken)).Should().Be("""{"jsonrpc":"2.0","result":2.5,"id":1}""", "the new scope applies from the next call");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
