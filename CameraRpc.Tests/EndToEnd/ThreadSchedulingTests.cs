using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// The executable sets the runtime's socket event-loop thread to SCHED_BATCH (so it never preempts a
/// thread answering calls) and leaves every other thread as it was. Checked on the real process
/// through /proc; if a future runtime renamed the thread this fails instead of quietly losing the
/// throughput it buys (see Platform/SocketEventLoopScheduling.cs).
/// </summary>
public sealed class ThreadSchedulingTests
{
    private const int SchedOther = 0;
    private const int SchedBatch = 3;

    [Test]
    [CancelAfter(30_000)]
    public async Task only_the_socket_event_loop_thread_runs_as_SCHED_BATCH(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("scheduling classes are Linux's");
        }

        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--log-level", "debug");
        await using (RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken))
        {
            (await client.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":1}""", cancellationToken))
                .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":1}""");
        }

        server.Lines.Should().Contain(line => line.Contains("DEBUG - Socket event loop: 1 thread(s) set to SCHED_BATCH", StringComparison.Ordinal));

        var policies = new List<(string Name, int Policy)>();
        foreach (string task in Directory.EnumerateDirectories($"/proc/{server.ProcessId}/task"))
        {
            if (TryReadThread(task, out string name, out int policy))
            {
                policies.Add((name, policy));
            }
        }

        policies.Where(thread => thread.Name == ".NET Sockets").Should().ContainSingle()
            .Which.Policy.Should().Be(SchedBatch, "the event loop must not preempt the workers");
        policies.Where(thread => thread.Name != ".NET Sockets").Should().NotBeEmpty()
            .And.OnlyContain(thread => thread.Policy == SchedOther, "the threads that run calls keep the normal class");
    }

    /// <summary>Name and scheduling policy of one thread, from its /proc stat line (the policy is field 41).</summary>
    private static bool TryReadThread(string task, out string name, out int policy)
    {
        name = string.Empty;
        policy = -1;
        try
        {
            string stat = File.ReadAllText(Path.Combine(task, "stat"));

            // "TID (NAME) STATE ..." where NAME may hold spaces and parentheses: it ends at the last ')'.
            int open = stat.IndexOf('(', StringComparison.Ordinal);
            int close = stat.LastIndexOf(')');
            name = stat[(open + 1)..close];
            string[] fields = stat[(close + 2)..].Split(' ');
            policy = int.Parse(fields[41 - 3], System.Globalization.CultureInfo.InvariantCulture);
            return true;
        }
        catch (IOException)
        {
            return false; // the thread ended while we looked
        }
    }
}
