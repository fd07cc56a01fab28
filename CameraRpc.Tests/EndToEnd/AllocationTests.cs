using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// A warm <c>ping</c> allocates nothing on the server, end to end: WebSocket frame in, parse, dispatch,
/// write, frame out. The load comes from the executable's own <c>bench</c> in a child process, so every
/// byte allocated in this process is the server's. Allocation is deterministic; no timing is asserted.
/// </summary>
[NonParallelizable]
public sealed class AllocationTests
{
    [TestCase(1, 4, false, TestName = "a_warm_ping_allocates_nothing_per_call_on_the_server")]
    [TestCase(16, 16, false, TestName = "pipelined_pings_on_many_connections_allocate_nothing_per_call_either")]
    [TestCase(4, 4, true, TestName = "with_a_token_and_both_rate_limits_on_a_warm_ping_still_allocates_nothing_per_call")]
    [CancelAfter(120_000)]
    public async Task a_warm_ping_allocates_nothing_per_call(int connections, int pipeline, bool accessOn, CancellationToken cancellationToken)
    {
        // A Debug build turns every async state machine into a class allocated per call; only an
        // optimised build (the README's `dotnet test -c Release`, CI) says anything about the product.
        if (typeof(CameraRpc.Server.Hosting.RpcHost).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true)
        {
            Assert.Ignore("allocation is measured on an optimised build: run the tests with -c Release");
        }

        // With access on, every call passes the admission step: the token's scopes and two buckets
        // (limits far above what the bench reaches, so that no call is refused).
        await using InProcessServer server = accessOn
            ? InProcessServer.Start(o => o with { AuthToken = AccessToken, RateLimit = 1_000_000_000, RateLimitPerAddress = 1_000_000_000 })
            : InProcessServer.Start();
        await RunBenchAsync(server, connections, pipeline, seconds: 2, cancellationToken); // warm-up: JIT, pools, buffers, the connection's own read buffer

        // Two runs of different lengths, each with its own connections: what a connection costs once
        // (accept, upgrade, its objects) is in both and cancels out of the difference, so the figure
        // is the cost of a call however few calls a busy machine manages in the time.
        (long shortAllocated, long shortAnswered) = await MeasureAsync(server, connections, pipeline, seconds: 1, cancellationToken);
        (long longAllocated, long longAnswered) = await MeasureAsync(server, connections, pipeline, seconds: 4, cancellationToken);
        long allocated = longAllocated - shortAllocated;
        long answered = longAnswered - shortAnswered;

        answered.Should().BeGreaterThan(1000, "the longer run must make enough more calls for a per-call figure");

        // A per-call allocation of even one small object (24 bytes) would put the figure far above this.
        (allocated / (double)answered).Should().BeLessThan(4,
            $"the longer run allocated {allocated} bytes more in the server for {answered} more pings over WebSocket ({connections} connection(s), {pipeline} in flight on each)");
    }

    private static async Task<(long Allocated, long Answered)> MeasureAsync(InProcessServer server, int connections, int pipeline, int seconds, CancellationToken cancellationToken)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        long answered = await RunBenchAsync(server, connections, pipeline, seconds, cancellationToken);
        return (GC.GetTotalAllocatedBytes(precise: true) - before, answered);
    }

    private const string AccessToken = "allocation-test-token";

    private static async Task<long> RunBenchAsync(InProcessServer server, int connections, int pipeline, int seconds, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(ServerProcess.ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["CAMERARPC_AUTH_TOKEN"] = AccessToken; // ignored by a server that wants none
        foreach (string arg in new[] { "bench", "--url", server.WebSocketUri.ToString(), "--connections", connections.ToString(CultureInfo.InvariantCulture), "--pipeline", pipeline.ToString(CultureInfo.InvariantCulture), "--duration", seconds.ToString(CultureInfo.InvariantCulture), "--warmup", "0", "--json" })
        {
            info.ArgumentList.Add(arg);
        }

        using Process bench = Process.Start(info)!;
        string output = await bench.StandardOutput.ReadToEndAsync(cancellationToken);
        await bench.WaitForExitAsync(cancellationToken);
        bench.ExitCode.Should().Be(0, $"bench ran cleanly: {output}");
        using JsonDocument result = JsonDocument.Parse(output);
        return result.RootElement.GetProperty("answered").GetInt64();
    }
}
