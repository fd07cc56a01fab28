using System.Collections.Concurrent;
using System.Globalization;
using CameraRpc.Protocol;
using CameraRpc.Server.Subscriptions;
using CameraRpc.Tests.EndToEnd.Methods;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// Subscriptions under load over real sockets (CONTRACT section 6): ordering while subscribes,
/// unsubscribes and publishes race on many connections; each overflow policy with a client that stops
/// reading while another keeps up; 1,000 subscribers that keep up see every event in order.
/// </summary>
[NonParallelizable]
public sealed class SubscriptionStressTests
{
    [Test, CancelAfter(120_000)]
    public async Task racing_subscribes_unsubscribes_and_publishes_never_break_the_ordering_guarantees(CancellationToken cancellationToken)
    {
        const int Connections = 16;
        const int Rounds = 25;
        await using InProcessServer server = InProcessServer.Start();
        using var publishing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task publisher = Task.Run(async () =>
        {
            for (long n = 0; !publishing.IsCancellationRequested; n++)
            {
                SubscriptionTestTopics.Numbers.Publish(n);
                if (n % 8 == 0)
                {
                    await Task.Yield();
                }
            }
        }, CancellationToken.None);

        var violations = new ConcurrentQueue<string>();
        long events = 0;
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async c =>
        {
            await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
            var answered = new HashSet<string>();     // ids whose subscribe answer arrived
            var unsubscribed = new HashSet<string>(); // ids whose unsubscribe answer arrived
            var lastSeq = new Dictionary<string, long>();
            int nextId = 1;

            async Task<WireMessage> AwaitAnswerAsync(int id)
            {
                while (true)
                {
                    WireMessage message = await client.NextAsync(cancellationToken);
                    if (message.Subscription is { } subscription)
                    {
                        Interlocked.Increment(ref events);
                        if (!answered.Contains(subscription))
                        {
                            violations.Enqueue($"connection {c}: an event of {subscription} before its subscribe answer");
                        }

                        if (unsubscribed.Contains(subscription))
                        {
                            violations.Enqueue($"connection {c}: an event of {subscription} after its unsubscribe answer");
                        }

                        if (lastSeq.TryGetValue(subscription, out long last) && message.Seq <= last)
                        {
                            violations.Enqueue($"connection {c}: seq {message.Seq} after {last} on {subscription}");
                        }

                        lastSeq[subscription] = message.Seq;
                        continue;
                    }

                    if (message.Id == id.ToString(CultureInfo.InvariantCulture))
                    {
                        return message;
                    }

                    violations.Enqueue($"connection {c}: unexpected message {message.Text}");
                }
            }

            for (int round = 0; round < Rounds; round++)
            {
                int subscribeId = nextId++;
                await client.SendAsync(SubscriptionClient.Subscribe("e2e.numbers", subscribeId), cancellationToken);
                string id = (await AwaitAnswerAsync(subscribeId)).Result!.Value.GetString()!;
                answered.Add(id);

                // Let some events flow, interleaved with calls of its own.
                int pingId = nextId++;
                await client.SendAsync(RpcMessages.Ping(pingId), cancellationToken);
                await AwaitAnswerAsync(pingId);

                int unsubscribeId = nextId++;
                await client.SendAsync(SubscriptionClient.Unsubscribe(id, unsubscribeId), cancellationToken);
                (await AwaitAnswerAsync(unsubscribeId)).Result!.Value.GetBoolean().Should().BeTrue();
                unsubscribed.Add(id);
            }

            // Whatever is still in flight must not belong to an unsubscribed subscription.
            int lastPing = nextId++;
            await client.SendAsync(RpcMessages.Ping(lastPing), cancellationToken);
            await AwaitAnswerAsync(lastPing);
        }));

        publishing.Cancel();
        await publisher;
        violations.Should().BeEmpty();
        Interlocked.Read(ref events).Should().BeGreaterThan(0, "events did flow while the subscriptions came and went");
        SubscriptionTestTopics.Numbers.SubscriberCount.Should().Be(0);
        server.Metrics.Subscriptions.Open.Should().Be(0);
    }

    [TestCase("e2e.dropOldest", RpcEventOutcome.Dropped, null)]
    [TestCase("e2e.coalesce", RpcEventOutcome.Coalesced, null)]
    [TestCase("e2e.close", null, "overflow")]
    [CancelAfter(120_000)]
    public async Task a_client_that_stops_reading_is_held_to_its_topics_bound_and_delays_nobody(
        string topic, RpcEventOutcome? slowOutcome, string? slowEnd, CancellationToken cancellationToken)
    {
        const int Events = 600;
        string payload = new('x', 32 * 1024); // 600 x 32 KiB: far more than the socket buffers between the server and the stopped client
        await using InProcessServer server = InProcessServer.Start();
        RpcTopic<string> feed = topic switch
        {
            "e2e.dropOldest" => SubscriptionTestTopics.DropOldest,
            "e2e.coalesce" => SubscriptionTestTopics.Coalesce,
            _ => SubscriptionTestTopics.Close,
        };

        await using RawWebSocket slow = await RawWebSocket.ConnectAsync(server.Port, cancellationToken, receiveBufferSize: 4096);
        await slow.SendTextAsync(SubscriptionClient.Subscribe(topic, 1), cancellationToken);
        RawFrame? answer = await slow.ReadMessageAsync(cancellationToken);
        answer!.Value.Text.Should().Contain("\"result\":\"", "subscribed; from now on this client reads nothing");

        await using RpcTestClient healthy = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        string id = await healthy.SubscribeAsync(topic, 1, cancellationToken);
        await using RpcTestClient bystander = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        for (int i = 1; i <= Events; i++)
        {
            feed.Publish(payload + i.ToString(CultureInfo.InvariantCulture));
            WireMessage message = await healthy.NextAsync(cancellationToken);
            message.Subscription.Should().Be(id);
            message.Seq.Should().Be(i, "a subscriber that keeps up sees no gap, whatever the stopped one does");
            message.End.Should().BeNull();
            if (i % 100 == 0)
            {
                (await bystander.CallAsync(RpcMessages.Ping(i), cancellationToken)).Should().Be(RpcMessages.Pong(i), "calls on other connections go on");
            }
        }

        SubscriptionMetrics metrics = server.Metrics.Subscriptions;
        if (slowOutcome is { } outcome)
        {
            metrics.Events(topic, outcome).Should().BeGreaterThan(0, "the stopped client's queue hit its bound and the policy applied");
        }

        if (slowEnd is not null)
        {
            await SubscriptionTests.WaitUntilAsync(() => metrics.OpenOn(topic) == 1, cancellationToken);
            metrics.EndedOn(topic, RpcSubscriptionEndReason.Overflow).Should().Be(1, "the stopped client's subscription ended with overflow; the healthy one did not");
            metrics.Events(topic, RpcEventOutcome.Dropped).Should().Be(0, "close never drops: it ends the subscription");
        }

        // The stopped client's events: at most what the socket buffers took plus the topic's capacity.
        long sent = metrics.Events(topic, RpcEventOutcome.Sent);
        (sent - Events).Should().BeLessThan(Events, "far from every event reached the stopped client's connection");
    }

    [Test, CancelAfter(180_000)]
    public async Task a_thousand_subscribers_that_keep_up_each_get_every_event_in_order(CancellationToken cancellationToken)
    {
        const int Connections = 50;
        const int PerConnection = 20; // 1,000 subscriptions
        const int Events = 100;       // under e2e.numbers' capacity of 1,024: a subscriber that keeps up never loses one
        await using InProcessServer server = InProcessServer.Start();
        var clients = new List<RpcTestClient>();
        var ids = new List<HashSet<string>>();
        for (int c = 0; c < Connections; c++)
        {
            RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
            clients.Add(client);
            var mine = new HashSet<string>();
            for (int s = 0; s < PerConnection; s++)
            {
                mine.Add(await client.SubscribeAsync("e2e.numbers", s + 1, cancellationToken));
            }

            ids.Add(mine);
        }

        SubscriptionTestTopics.Numbers.SubscriberCount.Should().Be(Connections * PerConnection);
        Task<bool>[] readers = clients.Select((client, c) => Task.Run(async () =>
        {
            var next = ids[c].ToDictionary(id => id, _ => 1L);
            for (int received = 0; received < PerConnection * Events; received++)
            {
                WireMessage message = await client.NextAsync(cancellationToken);
                long expected = next[message.Subscription!];
                if (message.Seq != expected || message.Result!.Value.GetInt64() != expected - 1)
                {
                    return false;
                }

                next[message.Subscription!] = expected + 1;
            }

            return next.Values.All(v => v == Events + 1);
        }, cancellationToken)).ToArray();

        for (long n = 0; n < Events; n++)
        {
            SubscriptionTestTopics.Numbers.Publish(n);
        }

        (await Task.WhenAll(readers)).Should().OnlyContain(ok => ok, "every subscriber got events 1 to 100, in order, without a gap");
        foreach (RpcTestClient client in clients)
        {
            await client.DisposeAsync();
        }

        await SubscriptionTests.WaitUntilAsync(() => server.Metrics.Subscriptions.Open == 0, cancellationToken);
        SubscriptionTestTopics.Numbers.SubscriberCount.Should().Be(0, "every disconnect left nothing behind");
    }
}
