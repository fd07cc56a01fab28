using System.Text.Json;
using CameraRpc.Server.Configuration;
using CameraRpc.Tests.EndToEnd.Methods;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>Subscriptions over real sockets against the in-process server (CONTRACT section 6): server.stats, limits, cleanup, metrics.</summary>
[NonParallelizable]
public sealed class SubscriptionTests
{
    [Test, CancelAfter(30_000)]
    public async Task server_stats_sends_the_current_values_as_event_1_then_one_event_per_tick(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (await client.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1));

        string id = await client.SubscribeAsync("server.stats", 2, cancellationToken);
        WireMessage first = await client.NextAsync(cancellationToken);
        first.Method.Should().Be("server.stats");
        first.Seq.Should().Be(1);
        JsonElement stats = first.Result!.Value;
        stats.EnumerateObject().Select(p => p.Name).Should().Equal(
            ["connections", "subscriptions", "calls", "callsPerSecond", "errors", "receivedBytes", "sentBytes", "uptimeSeconds"], "CONTRACT section 6 names the fields");
        stats.GetProperty("connections").GetInt64().Should().Be(1);
        stats.GetProperty("subscriptions").GetInt64().Should().Be(1);
        stats.GetProperty("calls").GetInt64().Should().BeGreaterThanOrEqualTo(1, "the ping was a call");

        server.Server.Stats.Tick();
        WireMessage second = await client.NextAsync(cancellationToken);
        second.Subscription.Should().Be(id);
        second.Seq.Should().Be(2);

        (await client.CallAsync(SubscriptionClient.Unsubscribe(id, 3), cancellationToken)).Should().Be(RpcMessages.Result("true", 3));
        server.Server.Stats.Tick();
        (await client.CallAsync(RpcMessages.Ping(4), cancellationToken)).Should().Be(RpcMessages.Pong(4), "nothing of the subscription follows its unsubscribe answer");
    }

    [Test, CancelAfter(30_000)]
    public async Task subscribing_over_http_is_not_available(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();

        HttpAnswer answer = await HttpExchange.PostAsync(server.HttpUri(), SubscriptionClient.Subscribe("server.stats", 1), cancellationToken);

        answer.Body.Should().Be("""{"jsonrpc":"2.0","error":{"code":-32004,"message":"Not available over HTTP"},"id":1}""");
    }

    [Test, CancelAfter(30_000)]
    public async Task max_subscriptions_is_enforced_per_connection_at_its_edge(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxSubscriptions = 3 });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient other = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        for (int i = 1; i <= 3; i++)
        {
            await client.SubscribeAsync("e2e.numbers", i, cancellationToken);
        }

        (await client.CallAsync(SubscriptionClient.Subscribe("e2e.numbers", 4), cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32006,"message":"Too many subscriptions"},"id":4}""", "the fourth is one over --max-subscriptions 3");
        await other.SubscribeAsync("e2e.numbers", 1, cancellationToken); // the limit is per connection
    }

    [Test, CancelAfter(30_000)]
    public async Task a_disconnect_ends_every_subscription_and_leaves_nothing_behind(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        int stoppedBefore = SubscriptionTestTopics.ForeverStopped;
        RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await client.SubscribeAsync("e2e.numbers", 1, cancellationToken);
        await client.SubscribeAsync("e2e.forever", 2, cancellationToken);
        (await client.NextAsync(cancellationToken)).Seq.Should().Be(1, "the stream is running");
        server.Metrics.Subscriptions.Open.Should().Be(2);

        client.Socket.Abort(); // no close handshake: the client is just gone
        await client.DisposeAsync();

        await WaitUntilAsync(() => server.Metrics.Subscriptions.Open == 0 && SubscriptionTestTopics.ForeverStopped > stoppedBefore, cancellationToken);
        SubscriptionTestTopics.Numbers.SubscriberCount.Should().Be(0, "the fed topic no longer holds the subscription");
        server.Metrics.Subscriptions.OpenOn("e2e.forever").Should().Be(0);
    }

    [Test, CancelAfter(30_000)]
    public async Task shutdown_ends_each_subscription_with_shutdown_before_the_1001(CancellationToken cancellationToken)
    {
        InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        string id = await client.SubscribeAsync("e2e.numbers", 1, cancellationToken);
        string stream = await client.SubscribeAsync("e2e.forever", 2, cancellationToken);
        (await client.NextAsync(cancellationToken)).Seq.Should().Be(1);

        Task stop = server.DisposeAsync().AsTask();

        var ends = new Dictionary<string, WireMessage>();
        while (ends.Count < 2)
        {
            WireMessage message = await client.NextAsync(cancellationToken);
            message.End.Should().Be("shutdown", "the last word of each subscription: " + message.Text);
            ends[message.Subscription!] = message;
        }

        ends[id].Seq.Should().Be(1, "no event was produced, so the end is seq 1");
        ends[stream].Seq.Should().Be(2, "one past the stream's event 1");
        (await client.WaitForCloseAsync(cancellationToken)).Should().Be(System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable);
        await stop;
        server.Metrics.Subscriptions.Open.Should().Be(0);
    }

    [Test, CancelAfter(30_000)]
    public async Task metrics_show_subscriptions_events_and_ends_by_topic(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await client.SubscribeAsync("e2e.numbers", 1, cancellationToken);
        SubscriptionTestTopics.Numbers.Publish(1);
        (await client.NextAsync(cancellationToken)).Seq.Should().Be(1);

        string text = (await HttpExchange.GetAsync(server.HttpUri("/metrics"), cancellationToken)).Body;

        text.Should().Contain("# TYPE camerarpc_subscriptions gauge\n");
        text.Should().Contain("camerarpc_subscriptions{topic=\"e2e.numbers\"} 1\n");
        text.Should().Contain("camerarpc_subscriptions{topic=\"server.stats\"} 0\n", "every topic is listed from the start");
        text.Should().Contain("camerarpc_events_total{topic=\"e2e.numbers\",outcome=\"sent\"} 1\n");
        text.Should().Contain("camerarpc_events_total{topic=\"e2e.numbers\",outcome=\"dropped\"} 0\n");
        text.Should().Contain("camerarpc_subscriptions_ended_total{topic=\"e2e.numbers\",reason=\"overflow\"} 0\n");
    }

    [Test, CancelAfter(30_000)]
    public async Task rpc_discover_lists_server_stats_as_the_contract_describes_it(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        using JsonDocument document = JsonDocument.Parse(await client.CallAsync("""{"jsonrpc":"2.0","method":"rpc.discover","id":1}""", cancellationToken));
        JsonElement stats = document.RootElement.GetProperty("result").GetProperty("x-topics").EnumerateArray()
            .Single(t => t.GetProperty("name").GetString() == "server.stats");

        stats.GetProperty("params").GetArrayLength().Should().Be(0);
        stats.GetProperty("x-overflow").GetString().Should().Be("coalesce");
        stats.GetProperty("x-capacity").GetInt32().Should().Be(1);
        stats.GetProperty("x-scope").GetString().Should().Be("server.read");
        stats.GetProperty("result").GetProperty("name").GetString().Should().Be("result");
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(10, cancellationToken); // polls a server-side counter; bounded by [CancelAfter]
        }
    }
}
