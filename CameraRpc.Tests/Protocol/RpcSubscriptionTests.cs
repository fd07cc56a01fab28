using System.Text.Json;
using CameraRpc.Protocol;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Protocol;

/// <summary>
/// The subscription engine without a socket (CONTRACT section 6): ids, the answer before event 1,
/// nothing after the unsubscribe answer, seq, the three overflow policies, the end notification and
/// the limits. Each test makes its own fed topic, so tests never see each other's events.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class RpcSubscriptionTests
{
    private static (RpcTopic<int> Topic, InMemoryConnection Connection) Fed(
        RpcOverflow overflow = RpcOverflow.DropOldest, int capacity = 16, Func<int>? current = null, int maxSubscriptions = 100, bool canPush = true)
    {
        RpcTopic<int> topic = new RpcTopic<int>(current).Bind(static (w, v) => w.WriteNumberValue(v));
        var info = new RpcTopicInfo("t.numbers", capacity, overflow, null, """{"name":"t.numbers"}""", topic);
        var table = RpcMethodTable.Combine(BuiltInRpcMethods.Table, new RpcMethodTable([], [info]));
        return (topic, new InMemoryConnection(table, new RpcDispatcherOptions { MaxSubscriptions = maxSubscriptions }, canPush));
    }

    private static string Event(string id, long seq, string result) =>
        $$$"""{"jsonrpc":"2.0","method":"t.numbers","params":{"subscription":"{{{id}}}","seq":{{{seq}}},"result":{{{result}}}}}""";

    private static string End(string id, long seq, string reason) =>
        $$$"""{"jsonrpc":"2.0","method":"t.numbers","params":{"subscription":"{{{id}}}","seq":{{{seq}}},"end":"{{{reason}}}"}}""";

    private static string Subscribe(int id, string topic = "t.numbers") =>
        $$"""{"jsonrpc":"2.0","method":"rpc.subscribe","params":{"topic":"{{topic}}"},"id":{{id}}}""";

    private static string Unsubscribe(int id, string subscription) =>
        $$"""{"jsonrpc":"2.0","method":"rpc.unsubscribe","params":["{{subscription}}"],"id":{{id}}}""";

    [Test]
    public async Task the_subscribe_answer_goes_out_before_event_1_even_when_the_topic_sends_its_current_state_at_once()
    {
        (_, InMemoryConnection connection) = Fed(RpcOverflow.Coalesce, current: () => 42);

        await connection.SendAsync(Subscribe(1));
        List<string> written = connection.Drain();

        written.Should().HaveCount(2);
        string id = JsonDocument.Parse(written[0]).RootElement.GetProperty("result").GetString()!;
        written[0].Should().Be($$"""{"jsonrpc":"2.0","result":"{{id}}","id":1}""", "the answer carries the id");
        written[1].Should().Be(Event(id, 1, "42"), "then the current state, as event 1");
    }

    [Test]
    public async Task ids_are_unguessable_strings_of_128_random_bits_unique_on_the_connection()
    {
        (_, InMemoryConnection connection) = Fed(maxSubscriptions: 50);
        var ids = new HashSet<string>();
        for (int i = 0; i < 50; i++)
        {
            ids.Add(await connection.SubscribeAsync("t.numbers", id: i));
        }

        ids.Should().HaveCount(50, "every id is unique");
        ids.Should().OnlyContain(id => id.Length == 32 && id.All(Uri.IsHexDigit), "32 hex digits: 128 random bits");
    }

    [Test]
    public async Task every_subscriber_gets_every_published_event_with_seq_counting_from_1()
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed();
        string a = await connection.SubscribeAsync("t.numbers", id: 1);
        string b = await connection.SubscribeAsync("t.numbers", id: 2);

        topic.Publish(10);
        topic.Publish(20);

        connection.Drain().Should().BeEquivalentTo(
            [Event(a, 1, "10"), Event(b, 1, "10"), Event(a, 2, "20"), Event(b, 2, "20")],
            options => options.WithStrictOrdering(),
            "each scheduled subscription gets a turn in line, one message per turn");
    }

    [Test]
    public async Task subscriptions_that_end_while_a_publish_reaches_them_leave_every_other_subscriber_served_once()
    {
        // Capacity 1 under the close policy: the second publish overflows every subscription from inside
        // the topic's walk of its subscribers, so the list changes under the walk at every step.
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed(RpcOverflow.Close, capacity: 1, maxSubscriptions: 64);
        var ids = new List<string>();
        for (int i = 0; i < 40; i++)
        {
            ids.Add(await connection.SubscribeAsync("t.numbers", id: i));
        }

        var unsubscribed = ids.Where((_, i) => i % 3 == 0).ToList();
        for (int i = unsubscribed.Count - 1; i >= 0; i--)
        {
            await connection.SendAsync(Unsubscribe(100 + i, unsubscribed[i]));
        }

        connection.Drain();
        topic.Publish(1);
        topic.Publish(2);
        topic.SubscriberCount.Should().Be(0, "every remaining subscription overflowed and left the topic");
        topic.Publish(3);

        var ends = new Dictionary<string, int>();
        foreach (string message in connection.Drain())
        {
            JsonElement parameters = JsonDocument.Parse(message).RootElement.GetProperty("params");
            string id = parameters.GetProperty("subscription").GetString()!;
            unsubscribed.Should().NotContain(id, "nothing follows an unsubscribe answer");
            if (parameters.TryGetProperty("end", out JsonElement reason))
            {
                reason.GetString().Should().Be("overflow");
                ends[id] = ends.GetValueOrDefault(id) + 1;
            }
            else
            {
                parameters.GetProperty("result").GetInt32().Should().BeLessThan(3, "nothing reaches a subscription after it ended");
            }
        }

        ends.Keys.Should().BeEquivalentTo(ids.Except(unsubscribed), "each remaining subscription was reached by the overflowing publish");
        ends.Values.Should().OnlyContain(count => count == 1, "and ended once");
    }

    [Test]
    public async Task unsubscribing_out_of_order_finds_each_subscription_exactly_once()
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed();
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            ids.Add(await connection.SubscribeAsync("t.numbers", id: i));
        }

        connection.Drain();
        int[] order = [1, 3, 0, 4, 2];
        for (int i = 0; i < order.Length; i++)
        {
            await connection.SendAsync(Unsubscribe(10 + i, ids[order[i]]));
            await connection.SendAsync(Unsubscribe(20 + i, ids[order[i]]));
        }

        connection.Drain().Should().Equal(
            order.SelectMany((_, i) => new[] { $$"""{"jsonrpc":"2.0","result":true,"id":{{10 + i}}}""", $$"""{"jsonrpc":"2.0","result":false,"id":{{20 + i}}}""" }),
            "each id is found once, whatever was removed before it");
        topic.SubscriberCount.Should().Be(0);
    }

    [Test]
    public async Task nothing_of_a_subscription_follows_its_unsubscribe_answer()
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed();
        string id = await connection.SubscribeAsync("t.numbers");
        topic.Publish(1);
        topic.Publish(2); // queued, not yet written when the unsubscribe comes

        await connection.SendAsync(Unsubscribe(2, id));
        topic.Publish(3);

        connection.Drain().Should().Equal(
            ["""{"jsonrpc":"2.0","result":true,"id":2}"""],
            "events still queued are dropped, later ones never queued, and no end notification follows");
        topic.SubscriberCount.Should().Be(0, "nothing is left behind on the topic");
    }

    [Test]
    public async Task unsubscribing_an_unknown_or_already_unsubscribed_id_answers_false()
    {
        (_, InMemoryConnection connection) = Fed();
        string id = await connection.SubscribeAsync("t.numbers");

        (await connection.CallAsync(Unsubscribe(2, id))).Should().Be("""{"jsonrpc":"2.0","result":true,"id":2}""");
        (await connection.CallAsync(Unsubscribe(3, id))).Should().Be("""{"jsonrpc":"2.0","result":false,"id":3}""", "it is no longer active");
        (await connection.CallAsync(Unsubscribe(4, "nope"))).Should().Be("""{"jsonrpc":"2.0","result":false,"id":4}""", "never an error");
    }

    [Test]
    public async Task coalesce_keeps_only_the_newest_unsent_value_and_the_gap_in_seq_shows_it()
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed(RpcOverflow.Coalesce);
        string id = await connection.SubscribeAsync("t.numbers");

        for (int i = 1; i <= 5; i++)
        {
            topic.Publish(i * 10);
        }

        connection.Drain().Should().Equal([Event(id, 5, "50")], "four unsent values were replaced");
        topic.Publish(60);
        connection.Drain().Should().Equal([Event(id, 6, "60")], "a client that keeps up misses nothing");
    }

    [Test]
    public async Task drop_oldest_keeps_the_newest_capacity_events()
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed(RpcOverflow.DropOldest, capacity: 3);
        string id = await connection.SubscribeAsync("t.numbers");

        for (int i = 1; i <= 5; i++)
        {
            topic.Publish(i);
        }

        connection.Drain().Should().Equal([Event(id, 3, "3"), Event(id, 4, "4"), Event(id, 5, "5")], "events 1 and 2 went");
    }

    [TestCase(RpcOverflow.DropOldest)]
    [TestCase(RpcOverflow.Close)]
    public async Task a_full_queue_whose_connection_can_write_is_sent_before_the_policy_drops_anything(RpcOverflow overflow)
    {
        // The publisher only queues, so a burst can fill a subscription before its writer's turn comes.
        // A client that reads must not lose events to that: the publisher has the connection write first.
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed(overflow, capacity: 3);
        connection.WritesWhenFull = true;
        string id = await connection.SubscribeAsync("t.numbers");

        for (int i = 1; i <= 10; i++)
        {
            topic.Publish(i);
        }

        List<string> received = [.. connection.Drained, .. connection.Drain()];
        received.Should().Equal(Enumerable.Range(1, 10).Select(i => Event(id, i, i.ToString(System.Globalization.CultureInfo.InvariantCulture))), "every event, in order, no gap");
        connection.WriteNowCalls.Should().BeGreaterThan(0);
        topic.SubscriberCount.Should().Be(1, "nothing overflowed");
    }

    [Test]
    public async Task close_ends_the_subscription_with_overflow_when_its_queue_is_full()
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed(RpcOverflow.Close, capacity: 2);
        string id = await connection.SubscribeAsync("t.numbers");

        topic.Publish(1);
        topic.Publish(2);
        connection.Drain(0);
        topic.Publish(3); // one too many
        topic.Publish(4);

        connection.Drain().Should().Equal(
            [End(id, 4, "overflow")],
            "the queue is dropped and the end comes next, one past the event that did not fit, so the client sees it missed 1 to 3");
        topic.SubscriberCount.Should().Be(0);
        (await connection.CallAsync(Unsubscribe(9, id))).Should().Contain("\"result\":false", "an ended subscription is no longer active");
    }

    [Test]
    public async Task a_close_topic_whose_client_keeps_up_never_overflows()
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed(RpcOverflow.Close, capacity: 1);
        string id = await connection.SubscribeAsync("t.numbers");

        for (int i = 1; i <= 10; i++)
        {
            topic.Publish(i);
            connection.Drain().Should().Equal([Event(id, i, i.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        }
    }

    [Test]
    public async Task max_subscriptions_is_enforced_at_its_edge_and_a_freed_slot_can_be_used_again()
    {
        (_, InMemoryConnection connection) = Fed(maxSubscriptions: 2);
        await connection.SubscribeAsync("t.numbers", id: 1);
        string second = await connection.SubscribeAsync("t.numbers", id: 2);

        (await connection.CallAsync(Subscribe(3))).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32006,"message":"Too many subscriptions"},"id":3}""", "the third is one over the limit");

        await connection.CallAsync(Unsubscribe(4, second));
        (await connection.CallAsync(Subscribe(5))).Should().Contain("\"result\":\"", "unsubscribing freed a slot");
    }

    [Test]
    public async Task an_unknown_topic_is_invalid_params_naming_the_topic()
    {
        (_, InMemoryConnection connection) = Fed();

        (await connection.CallAsync(Subscribe(1, "t.nothing"))).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"topic","reason":"unknown"}},"id":1}""");
    }

    [TestCase("""{"topic":"t.numbers","params":[1]}""", "[0]", "unexpected", TestName = "params_given_to_a_fed_topic_are_unexpected")]
    [TestCase("""{"topic":"t.numbers","params":5}""", "params", "type", TestName = "params_that_are_not_an_array_or_object_are_a_type_error")]
    [TestCase("""{"params":[]}""", "topic", "missing", TestName = "a_missing_topic_is_missing")]
    [TestCase("""{"topic":7}""", "topic", "type", TestName = "a_topic_that_is_not_a_string_is_a_type_error")]
    [TestCase("""{"topic":"t.numbers","extra":1}""", "extra", "unexpected", TestName = "an_extra_subscribe_param_is_unexpected")]
    public async Task bad_subscribe_params_are_invalid_params(string @params, string param, string reason)
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed();

        (await connection.CallAsync($$"""{"jsonrpc":"2.0","method":"rpc.subscribe","params":{{@params}},"id":1}""")).Should().Be(
            $$$"""{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"{{{param}}}","reason":"{{{reason}}}"}},"id":1}""");
        topic.SubscriberCount.Should().Be(0, "a refused subscription leaves nothing behind");
        RpcConnectionSubscriptions.Count(connection.Context).Should().Be(0);
    }

    [Test]
    public async Task over_http_subscribe_is_not_available()
    {
        (_, InMemoryConnection connection) = Fed(canPush: false);

        (await connection.CallAsync(Subscribe(1))).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32004,"message":"Not available over HTTP"},"id":1}""");
        (await connection.CallAsync("""{"jsonrpc":"2.0","method":"rpc.subscribe","params":{"topic":"no.such.topic"},"id":2}""")).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32004,"message":"Not available over HTTP"},"id":2}""",
            "over HTTP nothing can be subscribed, so the answer does not depend on the topic");
    }

    [Test]
    public async Task a_subscribe_sent_as_a_notification_leaves_no_subscription_behind()
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed();

        await connection.SendAsync("""{"jsonrpc":"2.0","method":"rpc.subscribe","params":{"topic":"t.numbers"}}""");
        topic.Publish(1);

        connection.Drain().Should().BeEmpty("nobody could know its id");
        topic.SubscriberCount.Should().Be(0);
    }

    [Test]
    public async Task in_a_batch_the_events_of_a_new_subscription_follow_the_batch_answer()
    {
        (_, InMemoryConnection connection) = Fed(RpcOverflow.Coalesce, current: () => 5);

        await connection.SendAsync($"[{Subscribe(1)},{Subscribe(2)}]");
        List<string> written = connection.Drain();

        written.Should().HaveCount(3);
        written[0].Should().StartWith("[", "the batch answer comes first");
        written.Skip(1).Should().OnlyContain(m => m.Contains("\"seq\":1,\"result\":5"), "then each subscription's event 1");
    }

    [Test]
    public async Task shutdown_ends_every_subscription_with_shutdown_dropping_what_was_queued()
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed();
        string id = await connection.SubscribeAsync("t.numbers");
        topic.Publish(1);
        topic.Publish(2);

        RpcConnectionSubscriptions.EndAll(connection.Context, RpcSubscriptionEndReason.Shutdown);

        connection.Drain().Should().Equal([End(id, 3, "shutdown")]);
        topic.SubscriberCount.Should().Be(0);
        RpcConnectionSubscriptions.Count(connection.Context).Should().Be(0);
    }

    [Test]
    public async Task a_disconnect_drops_every_subscription_silently_and_refuses_later_subscribes()
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed();
        await connection.SubscribeAsync("t.numbers", id: 1);
        await connection.SubscribeAsync("t.numbers", id: 2);
        topic.Publish(1);

        RpcConnectionSubscriptions.CloseAll(connection.Context);
        topic.Publish(2);

        connection.Drain().Should().BeEmpty("nothing goes to a connection that is gone");
        topic.SubscriberCount.Should().Be(0, "nothing is left behind");
        (await connection.CallAsync(Subscribe(3))).Should().Contain("-32000", "a subscribe racing with the disconnect is refused");
        topic.SubscriberCount.Should().Be(0);
    }

    [Test]
    public async Task events_published_before_the_answer_is_queued_wait_for_it()
    {
        (RpcTopic<int> topic, InMemoryConnection connection) = Fed();
        RpcResponseBuffer output = RpcResponseBuffer.Rent();
        await connection.Dispatcher.DispatchAsync(System.Text.Encoding.UTF8.GetBytes(Subscribe(1)), output, connection.Context);

        topic.Publish(7); // the transport has not queued the answer yet
        connection.Drain().Should().BeEmpty("the subscription is not scheduled before its answer is queued");
        connection.Scheduled.Should().Be(0);

        RpcStartingSubscriptions starting = output.TakeStartingSubscriptions();
        RpcResponseBuffer.Return(output);
        starting.Start();
        connection.Drain().Should().ContainSingle().Which.Should().Contain("\"seq\":1,\"result\":7");
    }

    [Test]
    public void a_topic_name_used_twice_is_refused_when_tables_are_combined()
    {
        RpcTopic<int> one = new RpcTopic<int>().Bind(static (w, v) => w.WriteNumberValue(v));
        RpcTopic<int> two = new RpcTopic<int>().Bind(static (w, v) => w.WriteNumberValue(v));
        var a = new RpcMethodTable([], [new RpcTopicInfo("t.same", 1, RpcOverflow.Close, null, "{}", one)]);
        var b = new RpcMethodTable([], [new RpcTopicInfo("t.same", 1, RpcOverflow.Close, null, "{}", two)]);

        FluentActions.Invoking(() => RpcMethodTable.Combine(a, b)).Should().Throw<ArgumentException>().WithMessage("*t.same*");
    }
}
