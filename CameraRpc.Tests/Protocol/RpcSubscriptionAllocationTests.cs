using System.Text;
using CameraRpc.Protocol;

namespace CameraRpc.Tests.Protocol;

/// <summary>
/// A warm fed-topic publish allocates nothing per subscriber (CONTRACT section 6: "serialized once, the
/// same bytes queued to every subscriber"), and a warm call on a connection that can cancel calls
/// allocates nothing either (the per-call cancellation source is pooled).
/// </summary>
[NonParallelizable]
public sealed class RpcSubscriptionAllocationTests
{
    private const int Rounds = 200;

    /// <summary>A sink that pulls like the outbound writer and allocates nothing itself.</summary>
    private sealed class PullingSink : IRpcNotificationSink, IRpcSubscriptionSink
    {
        private readonly RpcSubscription[] _scheduled = new RpcSubscription[4096];
        private int _count;

        public long Written { get; private set; }

        public void Schedule(RpcSubscription subscription) => _scheduled[_count++] = subscription;

        public void WriteNow(RpcSubscription subscription)
        {
        }

        public void DrainAll()
        {
            for (int i = 0; i < _count; i++)
            {
                while (_scheduled[i].TryTakeNext(out RpcResponseBuffer? message))
                {
                    Written++;
                    RpcResponseBuffer.Return(message);
                }
            }

            _count = 0;
        }

        public ValueTask SendNotificationAsync(RpcResponseBuffer message, CancellationToken cancellationToken)
        {
            RpcResponseBuffer.Return(message);
            return ValueTask.CompletedTask;
        }
    }

    private static long AllocatedPerRound(int subscribers)
    {
        RpcTopic<int> topic = new RpcTopic<int>().Bind(static (w, v) => w.WriteNumberValue(v));
        var info = new RpcTopicInfo("t.alloc", 16, RpcOverflow.DropOldest, null, "{}", topic);
        var dispatcher = new RpcDispatcher(RpcMethodTable.Combine(BuiltInRpcMethods.Table, new RpcMethodTable([], [info])), new RpcDispatcherOptions { MaxSubscriptions = subscribers });
        var sink = new PullingSink();
        var context = new RpcContext(dispatcher, 1, null, sink);
        byte[] subscribe = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"rpc.subscribe","params":["t.alloc"],"id":1}""");
        for (int i = 0; i < subscribers; i++)
        {
            RpcResponseBuffer output = RpcResponseBuffer.Rent();
            dispatcher.DispatchAsync(subscribe, output, context).AsTask().GetAwaiter().GetResult().Should().BeTrue();
            RpcStartingSubscriptions starting = output.TakeStartingSubscriptions();
            RpcResponseBuffer.Return(output);
            starting.Start();
        }

        for (int i = 0; i < 100; i++)
        {
            topic.Publish(i); // warm-up: JIT, payload and buffer pools
            sink.DrainAll();
        }

        long written = sink.Written;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Rounds; i++)
        {
            topic.Publish(i);
            sink.DrainAll();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        (sink.Written - written).Should().Be((long)Rounds * subscribers, "every subscriber got every event");
        return allocated / Rounds;
    }

    [Test]
    public void a_warm_publish_allocates_nothing_per_subscriber()
    {
        long one = AllocatedPerRound(1);
        long many = AllocatedPerRound(1000);

        many.Should().BeLessThanOrEqualTo(one, $"a publish to 1,000 subscribers allocates what a publish to one does ({many} vs {one} bytes per publish)");
        one.Should().Be(0, "the value's bytes and every event message come from pools");
    }

    [Test]
    public void a_warm_call_on_a_connection_that_can_cancel_calls_allocates_nothing()
    {
        var dispatcher = new RpcDispatcher(BuiltInRpcMethods.Table);
        var context = new RpcContext(dispatcher, 1, null, new PullingSink());
        byte[] ping = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"ping","id":1}""");
        RpcResponseBuffer output = RpcResponseBuffer.Rent();
        using var connection = new CancellationTokenSource();
        for (int i = 0; i < 100; i++)
        {
            output.Clear();
            dispatcher.DispatchAsync(ping, output, context, connection.Token).IsCompletedSuccessfully.Should().BeTrue();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            output.Clear();
            _ = dispatcher.DispatchAsync(ping, output, context, connection.Token);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0, "the call's cancellation source is pooled");
        RpcResponseBuffer.Return(output);
    }
}
