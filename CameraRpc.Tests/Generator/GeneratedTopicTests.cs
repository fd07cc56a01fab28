using System.Text.Json;
using CameraRpc.Protocol;
using CameraRpc.Tests.Generator.TestMethods;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Generator;

/// <summary>
/// The topics of Generator/TestMethods/TestRpcTopics.cs through the real generated table: params bound
/// as a method's, events written with the method writers, streams that complete, fail or are cancelled,
/// and their x-topics entries.
/// </summary>
[TestFixture]
[NonParallelizable] // fed topics are process-wide
public sealed class GeneratedTopicTests
{
    private static InMemoryConnection Connect() => new(RpcMethodTable.Combine(BuiltInRpcMethods.Table, GeneratedRpcMethods.Table));

    [Test, CancelAfter(10_000)]
    public async Task a_per_subscriber_topic_gets_its_params_and_ends_with_completed(CancellationToken cancellationToken)
    {
        InMemoryConnection connection = Connect();
        string id = await connection.SubscribeAsync("test.count", """{"count":3,"start":10}""");

        List<string> written = await connection.DrainUntilAsync(w => w.Count == 4, cancellationToken);

        written.Should().Equal(
            $$$"""{"jsonrpc":"2.0","method":"test.count","params":{"subscription":"{{{id}}}","seq":1,"result":10}}""",
            $$$"""{"jsonrpc":"2.0","method":"test.count","params":{"subscription":"{{{id}}}","seq":2,"result":11}}""",
            $$$"""{"jsonrpc":"2.0","method":"test.count","params":{"subscription":"{{{id}}}","seq":3,"result":12}}""",
            $$$"""{"jsonrpc":"2.0","method":"test.count","params":{"subscription":"{{{id}}}","seq":4,"end":"completed"}}""");
    }

    [TestCase("""{"start":1}""", "count", "missing")]
    [TestCase("""[1,2,3]""", "[2]", "unexpected")]
    [TestCase("""{"count":"three"}""", "count", "type")]
    public async Task topic_params_that_do_not_bind_are_invalid_params_exactly_as_for_a_method(string @params, string param, string reason)
    {
        InMemoryConnection connection = Connect();

        (await connection.CallAsync($$$"""{"jsonrpc":"2.0","method":"rpc.subscribe","params":{"topic":"test.count","params":{{{@params}}}},"id":1}"""))
            .Should().Be($$$"""{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"{{{param}}}","reason":"{{{reason}}}"}},"id":1}""");
        RpcConnectionSubscriptions.Count(connection.Context).Should().Be(0);
    }

    [Test, CancelAfter(10_000)]
    public async Task a_topic_that_throws_ends_with_failed_and_nothing_of_the_exception(CancellationToken cancellationToken)
    {
        InMemoryConnection connection = Connect();
        string id = await connection.SubscribeAsync("test.broken");

        List<string> written = await connection.DrainUntilAsync(w => w.Count == 2, cancellationToken);

        written[0].Should().Contain("\"seq\":1,\"result\":\"first\"");
        written[1].Should().Be($$$"""{"jsonrpc":"2.0","method":"test.broken","params":{"subscription":"{{{id}}}","seq":2,"end":"failed"}}""");
    }

    [Test, CancelAfter(10_000)]
    public async Task unsubscribing_and_disconnecting_cancel_a_per_subscriber_stream(CancellationToken cancellationToken)
    {
        InMemoryConnection connection = Connect();
        string first = Guid.NewGuid().ToString("N");
        string second = Guid.NewGuid().ToString("N");
        string id = await connection.SubscribeAsync("test.endless", $$"""["{{first}}"]""", id: 1);
        await connection.SubscribeAsync("test.endless", $$"""["{{second}}"]""", id: 2);
        await connection.DrainUntilAsync(w => w.Count == 2, cancellationToken); // both streams are running

        await connection.SendAsync($$"""{"jsonrpc":"2.0","method":"rpc.unsubscribe","params":["{{id}}"],"id":3}""", cancellationToken);
        await TestRpcTopics.EndlessCancelled(first).WaitAsync(cancellationToken);

        RpcConnectionSubscriptions.CloseAll(connection.Context);
        await TestRpcTopics.EndlessCancelled(second).WaitAsync(cancellationToken);
    }

    [Test]
    public async Task a_fed_state_topic_sends_its_current_state_first_then_what_is_published()
    {
        InMemoryConnection connection = Connect();
        TestRpcTopics.CurrentState = "recording";
        string id = await connection.SubscribeAsync("test.state");
        TestRpcTopics.State.Publish("stopped");
        TestRpcTopics.State.Publish("idle");

        connection.Drain().Should().Equal(
            [$$$"""{"jsonrpc":"2.0","method":"test.state","params":{"subscription":"{{{id}}}","seq":3,"result":"idle"}}"""],
            "coalesced: the newest unsent value only");
        RpcConnectionSubscriptions.CloseAll(connection.Context);
        TestRpcTopics.State.SubscriberCount.Should().Be(0);
    }

    [Test]
    public async Task a_fed_complex_topic_serializes_with_the_named_json_context()
    {
        InMemoryConnection connection = Connect();
        string id = await connection.SubscribeAsync("test.settings");
        TestRpcTopics.Settings.Publish(new TestCameraSettings("front", 0.5, TestExposureMode.Manual));

        connection.Drain().Should().Equal(
            $$$$"""{"jsonrpc":"2.0","method":"test.settings","params":{"subscription":"{{{{id}}}}","seq":1,"result":{"name":"front","exposure":0.5,"mode":"Manual"}}}""");
        RpcConnectionSubscriptions.CloseAll(connection.Context);
    }

    [Test]
    public async Task rpc_discover_lists_the_topics_in_x_topics()
    {
        InMemoryConnection connection = Connect();
        using JsonDocument document = JsonDocument.Parse(await connection.CallAsync("""{"jsonrpc":"2.0","method":"rpc.discover","id":1}"""));
        JsonElement topics = document.RootElement.GetProperty("result").GetProperty("x-topics");

        JsonElement count = topics.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "test.count");
        count.GetRawText().Should().Be(
            """{"name":"test.count","params":[{"name":"count","required":true,"schema":{"type":"integer"}},{"name":"start","required":false,"schema":{"type":"integer"}}],"result":{"name":"result","schema":{"type":"integer"}},"x-overflow":"close","x-capacity":64}""");
        JsonElement state = topics.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "test.state");
        state.GetProperty("x-overflow").GetString().Should().Be("coalesce");
        state.GetProperty("x-capacity").GetInt32().Should().Be(1);
        state.GetProperty("summary").GetString().Should().StartWith("A state");
        topics.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "test.settings")
            .GetProperty("x-scope").GetString().Should().Be("camera.read");
    }
}
