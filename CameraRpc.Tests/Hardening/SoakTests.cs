using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Hardening;

/// <summary>
/// Bounded soak: many connections, many pipelined calls (singles and batches), disconnects and
/// reconnects mixed in. Every call is answered exactly once, nothing is left behind.
/// </summary>
[NonParallelizable]
public sealed class SoakTests
{
    private const int Connections = 200;
    private const int Sessions = 3;
    private const int Singles = 40;
    private const int Batches = 10;
    private const int BatchSize = 4;

    [Test, CancelAfter(60_000)]
    public async Task every_pipelined_call_of_200_reconnecting_connections_is_answered_exactly_once_and_the_gauge_returns_to_0(CancellationToken cancellationToken)
    {
        ServerProbe.EnsureOpenFiles(4096);
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        var problems = new ConcurrentQueue<string>();
        long answered = 0;
        long abandoned = 0;
        var clock = Stopwatch.StartNew();

        await Parallel.ForEachAsync(Enumerable.Range(0, Connections), new ParallelOptions { MaxDegreeOfParallelism = Connections, CancellationToken = cancellationToken }, async (connection, ct) =>
        {
            for (int session = 0; session < Sessions; session++)
            {
                // Every fourth connection drops its last session abruptly, calls still in flight.
                bool vanish = session == Sessions - 1 && connection % 4 == 0;
                (int got, string? problem) = await RunSessionAsync(server.WebSocketUri, $"c{connection}s{session}", vanish, ct);
                Interlocked.Add(ref answered, got);
                if (vanish)
                {
                    Interlocked.Increment(ref abandoned);
                }

                if (problem is not null)
                {
                    problems.Enqueue(problem);
                }
            }
        });

        long expected = (long)((Connections * Sessions) - abandoned) * (Singles + (Batches * BatchSize));
        TestContext.Out.WriteLine($"soak: {Connections} connections x {Sessions} sessions, {answered} answers checked ({expected} expected), {abandoned} sessions dropped mid-flight, in {clock.Elapsed.TotalSeconds:0.0} s");
        problems.Should().BeEmpty("every call of a well-behaved session is answered exactly once, correctly");
        answered.Should().Be(expected);

        double gauge = await ServerProbe.PollUntilAsync(ct => ServerProbe.MetricAsync(server.Port, "camerarpc_connections", ct), g => g == 0, cancellationToken, within: TimeSpan.FromSeconds(15));
        gauge.Should().Be(0, "every connection, the abruptly dropped ones too, is gone from camerarpc_connections at the end (polled for 15 s)");
    }

    /// <summary>One connection: all calls sent pipelined while the answers are read; returns the answers checked.</summary>
    private static async Task<(int Answered, string? Problem)> RunSessionAsync(Uri uri, string tag, bool vanish, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(uri, cancellationToken);
        var outstanding = new ConcurrentDictionary<string, string>();
        var messages = new List<string>();
        for (int i = 0; i < Singles; i++)
        {
            string id = $"{tag}-{i}";
            outstanding[id] = id;
            messages.Add($$"""{"jsonrpc":"2.0","method":"echo","params":["{{id}}"],"id":"{{id}}"}""");
        }

        for (int b = 0; b < Batches; b++)
        {
            var calls = new List<string>();
            for (int i = 0; i < BatchSize; i++)
            {
                string id = $"{tag}-b{b}-{i}";
                outstanding[id] = id;
                calls.Add($$"""{"jsonrpc":"2.0","method":"echo","params":{"message":"{{id}}"},"id":"{{id}}"}""");
            }

            calls.Add("""{"jsonrpc":"2.0","method":"ping"}"""); // a notification: never answered
            messages.Insert((b * 5) + 1, "[" + string.Join(",", calls) + "]");
        }

        foreach (string message in messages)
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, cancellationToken);
            if (vanish && outstanding.Count > 0 && message.Length % 3 == 0)
            {
                break;
            }
        }

        if (vanish)
        {
            socket.Abort();
            return (0, null);
        }

        int answered = 0;
        byte[] buffer = new byte[64 * 1024];
        while (!outstanding.IsEmpty)
        {
            int count = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                try
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
                }
                catch (WebSocketException exception)
                {
                    // Reported with the session, so that a failure names the connection to look for in a server log.
                    return (answered, $"{tag}: the connection broke ({exception.Message}) after {answered} answers, with {outstanding.Count} calls unanswered");
                }

                count += result.Count;
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (answered, $"{tag}: closed with {outstanding.Count} calls unanswered");
            }

            using JsonDocument document = JsonDocument.Parse(buffer.AsMemory(0, count));
            JsonElement root = document.RootElement;
            foreach (JsonElement answer in root.ValueKind == JsonValueKind.Array ? root.EnumerateArray().ToArray() : [root])
            {
                string id = answer.GetProperty("id").GetString()!;
                if (!outstanding.TryRemove(id, out _))
                {
                    return (answered, $"{tag}: answer for {id} not expected (duplicate or unknown)");
                }

                if (!answer.TryGetProperty("result", out JsonElement value) || value.GetString() != id)
                {
                    return (answered, $"{tag}: wrong answer {answer.GetRawText()}");
                }

                answered++;
            }
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
        return (answered, null);
    }

    [Test, CancelAfter(120_000)]
    public async Task managed_memory_after_10_waves_of_1000_connections_is_back_at_its_level_after_the_first_wave(CancellationToken cancellationToken)
    {
        const int Waves = 10;
        const int PerWave = 1000;
        ServerProbe.EnsureOpenFiles(8192).Should().BeGreaterThanOrEqualTo(2 * PerWave + 200, "a wave holds both ends of its connections in this process");
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        var heap = new long[Waves];
        var clock = Stopwatch.StartNew();
        for (int wave = 0; wave < Waves; wave++)
        {
            await WaveAsync(server, PerWave, cancellationToken);
            int left = await ServerProbe.PollUntilAsync(ct => ServerProbe.HealthConnectionsAsync(server.Port, ct), n => n == 0, cancellationToken);
            left.Should().Be(0, "every connection of the wave was closed");
            heap[wave] = RetainedManagedHeap();
            TestContext.Out.WriteLine($"after wave {wave + 1}: {heap[wave] / 1024} KiB retained ({(heap[wave] - heap[0]) / 1024} KiB more than after wave 1), {clock.Elapsed.TotalSeconds:0.0} s");
        }

        // Wave 1 pays every one-time cost (JIT, pools, the registry's table sized for 1,000); from then on
        // a leak grows with each wave and noise does not. A leak of 1 KiB per connection is 9 MiB over
        // waves 2-10: the bound is half of that.
        long grown = heap[^1] - heap[0];
        const long LeakPerConnection = 1024;
        long bound = (Waves - 1) * PerWave * LeakPerConnection / 2;
        grown.Should().BeLessThan(bound,
            $"connections leave nothing behind: the retained managed heap after wave 10 is within {bound / 1024} KiB of wave 1's (a 1 KiB leak per connection would add {2 * bound / 1024} KiB)");
    }

    /// <summary>The managed heap that survives full, blocking, compacting collections (finalizers run in between).</summary>
    private static long RetainedManagedHeap()
    {
        for (int i = 0; i < 3; i++)
        {
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: false);
    }

    /// <summary>One wave: <paramref name="connections"/> clients connect at once, make five calls each, and disconnect.</summary>
    private static async Task WaveAsync(InProcessServer server, int connections, CancellationToken cancellationToken)
    {
        string padding = new('m', 1000);
        await Parallel.ForEachAsync(Enumerable.Range(0, connections), new ParallelOptions { MaxDegreeOfParallelism = connections, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, ct);
            for (int call = 0; call < 5; call++)
            {
                (await client.CallAsync($$"""{"jsonrpc":"2.0","method":"echo","params":["{{padding}}"],"id":{{call}}}""", ct))
                    .Should().Be($$"""{"jsonrpc":"2.0","result":"{{padding}}","id":{{call}}}""");
            }
        });
    }
}
