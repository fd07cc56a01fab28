using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>Many connections calling at once each get every answer, in order, and none is dropped.</summary>
[NonParallelizable]
public sealed class ConcurrentConnectionsTests
{
    [Test, CancelAfter(60_000)]
    public async Task fifty_connections_calling_at_once_each_get_every_answer(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        Task[] clients = Enumerable.Range(0, 50).Select(async c =>
        {
            await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
            for (int i = 0; i < 500; i++)
            {
                string answer = await client.CallAsync($$"""{"jsonrpc":"2.0","method":"echo","params":["c{{c}}-{{i}}"],"id":{{i}}}""", cancellationToken);
                answer.Should().Be($$"""{"jsonrpc":"2.0","result":"c{{c}}-{{i}}","id":{{i}}}""", "each connection gets its own answers in order");
            }
        }).ToArray();

        await Task.WhenAll(clients);
    }
}
