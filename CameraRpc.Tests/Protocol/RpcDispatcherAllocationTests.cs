using System.Text;
using CameraRpc.Protocol;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Protocol;

/// <summary>
/// Allocation is deterministic, so it can be asserted: the hot path allocates nothing per call once warm.
/// </summary>
[NonParallelizable]
public sealed class RpcDispatcherAllocationTests
{
    private const int Calls = 1000;

    [TestCase("""{"jsonrpc":"2.0","method":"ping","id":1}""", 0)]
    [TestCase("""{"jsonrpc":"2.0","method":"ping","params":[],"id":"abc"}""", 0)]
    [TestCase("""{"jsonrpc":"2.0","method":"echo","params":["hello camera"],"id":2}""", 0)]
    [TestCase("""{"jsonrpc":"2.0","method":"echo","params":{"message":{"exposure":1.5}},"id":3}""", 0)]
    public void a_warm_dispatch_allocates_at_most(string request, long bytesPerCall)
    {
        var dispatcher = new RpcDispatcher(BuiltInRpcMethods.Table);
        var context = new RpcContext(dispatcher, 1, null, null);
        byte[] message = Encoding.UTF8.GetBytes(request);
        RpcResponseBuffer output = RpcResponseBuffer.Rent();

        for (int i = 0; i < 100; i++)
        {
            Dispatch(dispatcher, context, message, output); // warm-up: JIT, pools, writer
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            Dispatch(dispatcher, context, message, output);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().BeLessThanOrEqualTo(bytesPerCall * Calls, $"{allocated} bytes were allocated over {Calls} calls");
        RpcResponseBuffer.Return(output);
    }

    private static void Dispatch(RpcDispatcher dispatcher, RpcContext context, byte[] message, RpcResponseBuffer output)
    {
        output.Clear();
        ValueTask<bool> pending = dispatcher.DispatchAsync(message, output, context);
        if (!pending.IsCompletedSuccessfully || !pending.Result)
        {
            throw new AssertionException("a built-in call must complete synchronously with an answer");
        }
    }
}

/// <summary>With scopes and rate limits on, a warm admitted call still allocates nothing.</summary>
[NonParallelizable]
public sealed class RpcDispatcherAdmissionAllocationTests
{
    [Test]
    public void a_warm_call_through_scopes_and_both_rate_limits_allocates_nothing()
    {
        var dispatcher = new RpcDispatcher(BuiltInRpcMethods.Table);
        var table = new CameraRpc.Server.Security.AddressRateTable(int.MaxValue, 0, TimeProvider.System);
        var admission = new CameraRpc.Server.Security.CallAdmission(
            new CameraRpc.Server.Security.TokenIdentity("operator", CameraRpc.Server.Security.TokenSet.Hash("t"), ["camera.read"]),
            checksScopes: true,
            new CameraRpc.Server.Security.TokenBucket(int.MaxValue, TimeProvider.System),
            table.Acquire(System.Net.IPAddress.Loopback),
            new CameraRpc.Server.Security.RateLimitCounters());
        var context = new RpcContext(dispatcher, 1, null, null) { Admission = admission };
        byte[] message = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"ping","id":1}""");
        RpcResponseBuffer output = RpcResponseBuffer.Rent();
        for (int i = 0; i < 100; i++)
        {
            output.Clear();
            dispatcher.DispatchAsync(message, output, context).Result.Should().BeTrue();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            output.Clear();
            _ = dispatcher.DispatchAsync(message, output, context).Result;
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0, "admission takes two buckets and scans the scopes, allocating nothing");
        Encoding.UTF8.GetString(output.WrittenSpan).Should().Contain("pong");
        RpcResponseBuffer.Return(output);
    }
}
