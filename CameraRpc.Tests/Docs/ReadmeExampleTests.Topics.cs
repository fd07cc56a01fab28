using System.Text.Json;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Docs;

/// <summary>The README's Topics section: the example's fed topic (camera.controls) and per-subscriber topic (camera.frames) behave as it says.</summary>
public sealed partial class ReadmeExampleTests
{
    [Test, CancelAfter(30_000)]
    public async Task camera_controls_sends_the_current_state_first_then_each_change_made_by_the_set_method(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient watcher = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient setter = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        string id = await watcher.SubscribeAsync("camera.controls", 1, cancellationToken);
        WireMessage first = await watcher.NextAsync(cancellationToken);
        first.Seq.Should().Be(1, "the current state, at once");
        first.Result!.Value.EnumerateArray().Select(c => c.GetProperty("camera").GetString()).Should().Equal("front", "rear");

        await setter.SendAsync("""{"jsonrpc":"2.0","method":"camera.setExposure","params":{"camera":"front","milliseconds":33,"mode":"Manual"},"id":7}""", cancellationToken);
        WireMessage change = await watcher.NextAsync(cancellationToken);
        change.Subscription.Should().Be(id);
        change.Seq.Should().Be(2);
        change.Result!.Value[0].GetRawText().Should().Be("""{"camera":"front","milliseconds":33,"mode":"Manual"}""", "another connection's set reached this subscriber");
    }

    [Test, CancelAfter(30_000)]
    public async Task camera_frames_runs_per_subscriber_with_bound_params_and_refuses_an_unknown_camera(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        (await client.CallAsync(SubscriptionClient.Subscribe("camera.frames", 1, """{"camera":"side"}"""), cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":1001,"message":"Unknown camera: side","data":["front","rear"]},"id":1}""");
        (await client.CallAsync(SubscriptionClient.Subscribe("camera.frames", 2, """{"fps":25}"""), cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"camera","reason":"missing"}},"id":2}""");

        string id = await client.SubscribeAsync("camera.frames", 3, cancellationToken, """["front",100]""");
        (await client.NextAsync(cancellationToken)).Result!.Value.GetInt64().Should().Be(1);
        (await client.NextAsync(cancellationToken)).Result!.Value.GetInt64().Should().Be(2);

        await client.SendAsync(SubscriptionClient.Unsubscribe(id, 4), cancellationToken);
        while (true)
        {
            WireMessage message = await client.NextAsync(cancellationToken); // frames already on their way may come first
            if (message.Id == "4")
            {
                message.Result!.Value.GetBoolean().Should().BeTrue();
                break;
            }
        }

        (await client.CallAsync(RpcMessages.Ping(5), cancellationToken)).Should().Be(RpcMessages.Pong(5), "no frame follows the unsubscribe answer");
        using JsonDocument discover = JsonDocument.Parse(await client.CallAsync("""{"jsonrpc":"2.0","method":"rpc.discover","id":6}""", cancellationToken));
        discover.RootElement.GetProperty("result").GetProperty("x-topics").EnumerateArray().Select(t => t.GetProperty("name").GetString())
            .Should().Contain(["camera.controls", "camera.frames", "server.stats"]);
    }
}
