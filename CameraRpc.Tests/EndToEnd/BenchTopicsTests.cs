using System.Text.Json;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// <c>--bench-topics</c>: off (the default) the topic <c>bench.events</c> and the method <c>bench.publish</c> do not
/// exist; on, one publisher in the server sends numbered, timestamped events to every subscriber.
/// </summary>
[NonParallelizable]
public sealed class BenchTopicsTests
{
    [Test, CancelAfter(30_000)]
    public async Task by_default_the_bench_topic_and_method_do_not_exist(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        (await client.CallAsync(SubscriptionClient.Subscribe("bench.events", 1), cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"topic","reason":"unknown"}},"id":1}""",
            "a production server has no bench topic");
        (await client.CallAsync(RpcMessages.Call("bench.publish", """{"events":1}""", 2), cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found: bench.publish"},"id":2}""",
            "nor the method that publishes to it");
        string discover = await client.CallAsync("""{"jsonrpc":"2.0","method":"rpc.discover","id":3}""", cancellationToken);
        discover.Should().NotContain("bench.", "rpc.discover lists neither");
    }

    [Test, CancelAfter(30_000)]
    public async Task with_bench_topics_on_a_subscriber_gets_every_published_event_numbered_and_timestamped(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { BenchTopics = true });
        await using RpcTestClient subscriber = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient control = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        string id = await subscriber.SubscribeAsync("bench.events", 1, cancellationToken);

        string answer = await control.CallAsync(RpcMessages.Call("bench.publish", """{"events":5,"rate":0}""", 7), cancellationToken);

        using (JsonDocument document = JsonDocument.Parse(answer))
        {
            JsonElement result = document.RootElement.GetProperty("result");
            result.GetProperty("published").GetInt64().Should().Be(5);
            result.GetProperty("subscribers").GetInt32().Should().Be(1, "one subscription was open when the publisher started");
            result.GetProperty("elapsedMs").GetDouble().Should().BeGreaterThanOrEqualTo(0);
            result.GetProperty("timestampFrequency").GetInt64().Should().Be(System.Diagnostics.Stopwatch.Frequency, "the client compares it with its own clock's");
        }

        long previousTime = 0;
        for (int i = 1; i <= 5; i++)
        {
            WireMessage message = await subscriber.NextAsync(cancellationToken);
            message.Method.Should().Be("bench.events");
            message.Subscription.Should().Be(id);
            message.Seq.Should().Be(i, "a subscriber that keeps up sees no gap");
            JsonElement value = message.Result!.Value;
            value.GetProperty("i").GetInt64().Should().Be(i, "the publisher numbers its events from 1");
            long time = value.GetProperty("t").GetInt64();
            time.Should().BeGreaterThanOrEqualTo(previousTime, "t is the publisher's monotonic clock");
            value.TryGetProperty("p", out _).Should().BeFalse("no padding was asked for");
            previousTime = time;
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task a_paced_publish_with_padding_sends_events_of_that_size(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { BenchTopics = true });
        await using RpcTestClient subscriber = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient control = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await subscriber.SubscribeAsync("bench.events", 1, cancellationToken);

        string answer = await control.CallAsync(RpcMessages.Call("bench.publish", """{"events":3,"rate":1000,"size":100}""", 1), cancellationToken);

        answer.Should().Contain("\"published\":3");
        for (int i = 1; i <= 3; i++)
        {
            WireMessage message = await subscriber.NextAsync(cancellationToken);
            message.Seq.Should().Be(i);
            message.Result!.Value.GetProperty("p").GetString().Should().Be(new string('x', 100), "size pads each event with that many bytes");
        }
    }

    [TestCase("""{"events":-1}""", "events", "type")]
    [TestCase("""{"events":100000001}""", "events", "type")]
    [TestCase("""{"events":"10"}""", "events", "type")]
    [TestCase("""{"rate":10}""", "events", "missing")]
    [TestCase("""{"events":1,"rate":-1}""", "rate", "type")]
    [TestCase("""{"events":1,"rate":10000001}""", "rate", "type")]
    [TestCase("""{"events":1,"size":65537}""", "size", "type")]
    [TestCase("""{"events":1,"topic":"x"}""", "topic", "unexpected")]
    [TestCase("""[1,0,0,0]""", "[3]", "unexpected")]
    [CancelAfter(30_000)]
    public async Task bench_publish_refuses_params_past_their_edges(string @params, string param, string reason, CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { BenchTopics = true });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        (await client.CallAsync(RpcMessages.Call("bench.publish", @params, 1), cancellationToken)).Should().Be(
            $$$"""{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"{{{param}}}","reason":"{{{reason}}}"}},"id":1}""");
    }

    [TestCase("""{"events":0}""", 0)]
    [TestCase("""{"events":100000000,"rate":10000000,"size":65536}""", -1)]
    [TestCase("""[2,0]""", 2)]
    [CancelAfter(30_000)]
    public async Task bench_publish_takes_params_at_their_edges(string @params, int published, CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { BenchTopics = true });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        if (published < 0)
        {
            // The largest values bind: the call runs (cancelled here through $/cancelRequest rather than waited for).
            await client.SendAsync(RpcMessages.Call("bench.publish", @params, 1), cancellationToken);
            await client.SendAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}""", cancellationToken);
            (await client.NextAsync(cancellationToken)).Text.Should().Contain("-32800", "a cancelled publisher stops and its call is answered as cancelled");
            return;
        }

        (await client.CallAsync(RpcMessages.Call("bench.publish", @params, 1), cancellationToken)).Should().Contain($"\"published\":{published}");
    }
}
