using System.Net.WebSockets;
using System.Text;
using CameraRpc.Server.Transport;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Transport;

/// <summary>
/// The upgrade takes the connection over from HttpListener (through <c>UnsafeAccessor</c>) on the
/// runtime the tests run on; the silent fallback to HttpListener's own WebSocket fails here.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class WebSocketUpgradeTests
{
    [Test]
    [CancelAfter(30_000)]
    public async Task an_upgrade_through_the_real_server_takes_the_connection_over_from_HttpListener(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        long takenOverBefore = WebSocketUpgrade.TakeOverCount;

        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.WebSocketUri, cancellationToken);
        await client.SendAsync("""{"jsonrpc":"2.0","method":"ping","id":1}"""u8.ToArray(), WebSocketMessageType.Text, true, cancellationToken);
        byte[] answer = new byte[256];
        WebSocketReceiveResult result = await client.ReceiveAsync(answer, cancellationToken);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, string.Empty, cancellationToken);

        Encoding.UTF8.GetString(answer, 0, result.Count).Should().Contain("pong", "the connection works");
        WebSocketUpgrade.FallbackReason.Should().BeNull("every HttpListener member the take-over needs exists on this runtime");
        WebSocketUpgrade.FallbackCount.Should().Be(0, "no connection fell back to HttpListener's own WebSocket");
        WebSocketUpgrade.TakeOverCount.Should().BeGreaterThan(takenOverBefore, "this connection was taken over");
    }
}
