using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// How the executable's threads are scheduled, read from the real process through /proc: the
/// runtime's socket event-loop thread runs as SCHED_BATCH (so it never preempts a thread answering
/// calls), the log writer at nice +10 (so under overload calls win over log lines), and every other
/// thread as it was. If a future runtime renamed the event-loop thread this fails instead of quietly
/// losing the throughput it buys (see Platform/SocketEventLoopScheduling.cs and Logging/LogSink.cs).
/// </summary>
public sealed class ThreadSchedulingTests
{
    private const int SchedOther = 0;
    private const int SchedBatch = 3;

    [Test]
    [CancelAfter(30_000)]
    public async Task the_event_loop_runs_as_SCHED_BATCH_and_the_log_writer_below_the_threads_that_serve_calls(CancellationToken cancellationToken)
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

        // Logged just after the listener started (so possibly after the line StartAsync waited for):
        // once it is here, the class has been set.
        await server.WaitForLineAsync(line => line.Contains("DEBUG - Socket event loop: 1 thread(s) set to SCHED_BATCH", StringComparison.Ordinal), cancellationToken);

        var threads = new List<(string Name, int Policy, int Nice)>();
        foreach (string task in Directory.EnumerateDirectories($"/proc/{server.ProcessId}/task"))
        {
            if (TryReadThread(task, out string name, out int policy, out int nice))
            {
                threads.Add((name, policy, nice));
            }
        }

        // Relative to the priority the process was started with (CI may run the tests under nice).
        TryReadThread($"/proc/{server.ProcessId}/task/{server.ProcessId}", out _, out _, out int started).Should().BeTrue();
        int lowered = Math.Min(started + 10, 19);

        // The startup lines went through the log writer, so it has lowered its priority by now.
        threads.Where(thread => thread.Name == ".NET Sockets").Should().ContainSingle()
            .Which.Should().Be((".NET Sockets", SchedBatch, started), "the event loop must not preempt the workers");
        threads.Where(thread => thread.Name == "CameraRpc log").Should().ContainSingle()
            .Which.Should().Be(("CameraRpc log", SchedOther, lowered), "the log writer yields to calls under overload");
        threads.Where(thread => thread.Name is not ".NET Sockets" and not "CameraRpc log").Should().NotBeEmpty()
            .And.OnlyContain(thread => thread.Policy == SchedOther && thread.Nice == started, "the threads that run calls keep the normal class and priority");
    }

    /// <summary>Name, scheduling policy and nice value of one thread, from its /proc stat line (fields 2, 41 and 19).</summary>
    private static bool TryReadThread(string task, out string name, out int policy, out int nice)
    {
        name = string.Empty;
        policy = -1;
        nice = int.MinValue;
        try
        {
            string stat = File.ReadAllText(Path.Combine(task, "stat"));

            // "TID (NAME) STATE ..." where NAME may hold spaces and parentheses: it ends at the last ')'.
            int open = stat.IndexOf('(', StringComparison.Ordinal);
            int close = stat.LastIndexOf(')');
            name = stat[(open + 1)..close];
            string[] fields = stat[(close + 2)..].Split(' ');
            policy = int.Parse(fields[41 - 3], System.Globalization.CultureInfo.InvariantCulture);
            nice = int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture);
            return true;
        }
        catch (IOException)
        {
            return false; // the thread ended while we looked
        }
    }
}
