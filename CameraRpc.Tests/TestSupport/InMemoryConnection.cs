using System.Text;
using System.Text.Json;
using CameraRpc.Protocol;

namespace CameraRpc.Tests.TestSupport;

/// <summary>
/// A connection without a socket for engine tests of subscriptions and cancellation: it behaves like the
/// server's outbound writer (one queue of answers and scheduled subscriptions; a subscription is pulled
/// one message per turn and goes to the back of the queue), but it writes only when the test drains it.
/// </summary>
public sealed class InMemoryConnection : IRpcNotificationSink, IRpcSubscriptionSink
{
    private readonly Queue<object> _queue = new(); // string (a finished message) or RpcSubscription (a turn)

    public InMemoryConnection(RpcMethodTable methods, RpcDispatcherOptions? options = null, bool canPush = true)
    {
        Dispatcher = new RpcDispatcher(methods, options);
        Context = new RpcContext(Dispatcher, 7, null, canPush ? this : null);
    }

    public RpcDispatcher Dispatcher { get; }

    public RpcContext Context { get; }

    /// <summary>How many times a subscription was put in line.</summary>
    public int Scheduled { get; private set; }

    /// <summary>Dispatches <paramref name="message"/> and queues its answer the way the transport does: subscriptions start after it.</summary>
    public async Task SendAsync(string message, CancellationToken cancellationToken = default)
    {
        RpcResponseBuffer output = RpcResponseBuffer.Rent();
        bool answered = await Dispatcher.DispatchAsync(Encoding.UTF8.GetBytes(message), output, Context, cancellationToken);
        RpcStartingSubscriptions starting = output.TakeStartingSubscriptions();
        if (answered)
        {
            Enqueue(Encoding.UTF8.GetString(output.WrittenSpan));
        }

        RpcResponseBuffer.Return(output);
        starting.Start();
    }

    /// <summary>Sends a call and drains: the first message drained is expected to be its answer, which is returned.</summary>
    public async Task<string> CallAsync(string message)
    {
        await SendAsync(message);
        return Drain(1).Single();
    }

    /// <summary>Subscribes and returns the new subscription's id (fails the test on an error answer).</summary>
    public async Task<string> SubscribeAsync(string topic, string? @params = null, int id = 1)
    {
        string answer = await CallAsync(
            $"{{\"jsonrpc\":\"2.0\",\"method\":\"rpc.subscribe\",\"params\":{{\"topic\":\"{topic}\"{(@params is null ? "" : ",\"params\":" + @params)}}},\"id\":{id}}}");
        using JsonDocument document = JsonDocument.Parse(answer);
        document.RootElement.TryGetProperty("result", out JsonElement result).Should().BeTrue("the subscribe answer is a result: " + answer);
        return result.GetString()!;
    }

    /// <summary>Writes up to <paramref name="max"/> messages in queue order, as the outbound writer would.</summary>
    public List<string> Drain(int max = int.MaxValue)
    {
        var written = new List<string>();
        while (written.Count < max)
        {
            object item;
            lock (_queue)
            {
                if (!_queue.TryDequeue(out item!))
                {
                    break;
                }
            }

            if (item is string text)
            {
                written.Add(text);
                continue;
            }

            var subscription = (RpcSubscription)item;
            if (subscription.TryTakeNext(out RpcResponseBuffer? message))
            {
                written.Add(Encoding.UTF8.GetString(message.WrittenSpan));
                RpcResponseBuffer.Return(message);
                lock (_queue)
                {
                    _queue.Enqueue(subscription);
                }
            }
        }

        return written;
    }

    /// <summary>Drains until <paramref name="done"/> holds for what was written (streams run on the thread pool).</summary>
    public async Task<List<string>> DrainUntilAsync(Func<List<string>, bool> done, CancellationToken cancellationToken)
    {
        var all = new List<string>();
        while (!done(all))
        {
            List<string> more = Drain();
            all.AddRange(more);
            if (more.Count == 0)
            {
                await Task.Delay(1, cancellationToken);
            }
        }

        return all;
    }

    public ValueTask SendNotificationAsync(RpcResponseBuffer message, CancellationToken cancellationToken)
    {
        Enqueue(Encoding.UTF8.GetString(message.WrittenSpan));
        RpcResponseBuffer.Return(message);
        return ValueTask.CompletedTask;
    }

    /// <summary>When set, a publisher that finds a subscription full has the connection drain at once (a client that reads); otherwise the queue stays as it is (one that does not).</summary>
    public bool WritesWhenFull { get; set; }

    /// <summary>How many times a publisher asked for a write because a subscription was full.</summary>
    public int WriteNowCalls { get; private set; }

    public void WriteNow(RpcSubscription subscription)
    {
        WriteNowCalls++;
        if (WritesWhenFull)
        {
            Drained.AddRange(Drain());
        }
    }

    /// <summary>What <see cref="WriteNow"/> wrote, when <see cref="WritesWhenFull"/> is set.</summary>
    public List<string> Drained { get; } = [];

    public void Schedule(RpcSubscription subscription)
    {
        lock (_queue)
        {
            Scheduled++;
            _queue.Enqueue(subscription);
        }
    }

    private void Enqueue(string text)
    {
        lock (_queue)
        {
            _queue.Enqueue(text);
        }
    }
}
