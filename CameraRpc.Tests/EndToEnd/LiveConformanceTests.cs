using System.Net.WebSockets;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// Every conformance script (Conformance/Scripts/*.rpc) against the real executable, over WebSocket and
/// over HTTP POST, byte for byte. One server serves all the scripts.
/// </summary>
[NonParallelizable]
public sealed class LiveConformanceTests : SharedServerFixture
{
    public static IEnumerable<RpcScript> Scripts() => RpcScript.LoadAll();

    [TestCaseSource(nameof(Scripts)), CancelAfter(30_000)]
    public async Task script_answers_match_exactly_over_websocket(RpcScript script, CancellationToken cancellationToken)
    {
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(Server.WebSocketUri, cancellationToken);
        foreach (RpcScriptStep step in script.Steps)
        {
            string where = $"{script.Name}.rpc line {step.Line}: {step.Request}";
            await client.SendAsync(step.Request, cancellationToken);
            if (step.Expected is null)
            {
                // "No answer" is proved by the next message: the answer of a ping sent after the step.
                string marker = "after-line-" + step.Line;
                await client.SendAsync(RpcMessages.Ping(marker), cancellationToken);
                (string Text, WebSocketMessageType Type)? next = await client.ReceiveAsync(cancellationToken);
                next?.Text.Should().Be(RpcMessages.Pong(marker), $"{where} must get no answer, so the next message is the ping's answer");
                next.Should().NotBeNull($"{where}: the server must not close the connection");
            }
            else
            {
                (string Text, WebSocketMessageType Type)? answer = await client.ReceiveAsync(cancellationToken);
                answer.Should().NotBeNull($"{where}: the server must answer, not close ({client.CloseStatus})");
                answer!.Value.Text.Should().Be(step.Expected, where);
                answer.Value.Type.Should().Be(WebSocketMessageType.Text, $"{where}: a text message is answered in a text message");
            }
        }
    }

    [TestCaseSource(nameof(Scripts)), CancelAfter(30_000)]
    public async Task script_answers_match_exactly_over_http_post(RpcScript script, CancellationToken cancellationToken)
    {
        foreach (RpcScriptStep step in script.Steps)
        {
            string where = $"{script.Name}.rpc line {step.Line}: {step.Request}";
            HttpAnswer answer = await HttpExchange.PostAsync(Server.HttpUri(), step.Request, cancellationToken);
            if (step.Expected is null)
            {
                answer.Status.Should().Be(204, $"{where} gets no answer, which over HTTP is 204");
                answer.Body.Should().BeEmpty($"{where}: a 204 has no body");
            }
            else
            {
                answer.Status.Should().Be(200, where);
                answer.ContentType.Should().StartWith("application/json", where);
                answer.Body.Should().Be(step.Expected, where);
            }
        }
    }
}
