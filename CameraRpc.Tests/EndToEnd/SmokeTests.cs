using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>The real executable starts on a free port, answers a ping over WebSocket, and stops on SIGTERM.</summary>
[NonParallelizable]
public sealed class SmokeTests
{
    [Test, CancelAfter(60_000)]
    public async Task the_executable_answers_a_ping_and_exits_0_on_sigterm(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using (RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken))
        {
            (await client.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":1}""", cancellationToken))
                .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":1}""");
        }

        server.Signal(ServerProcess.SIGTERM);
        (await server.WaitForExitAsync(cancellationToken)).Should().Be(0, "a graceful shutdown exits 0");
    }

    [Test, CancelAfter(30_000)]
    public async Task the_in_process_server_answers_a_ping(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        (await client.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":"a"}""", cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":"a"}""");
    }
}
