using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Hardening;

/// <summary>SIGTERM to the real executable while 1,000 connections have pipelined calls in flight (CONTRACT §5).</summary>
[NonParallelizable]
public sealed class ShutdownUnderLoadTests
{
    private const int Connections = 1000;
    private const int Window = 8;
    private const int ShutdownTimeoutSeconds = 3;

    private sealed class LoadedConnection
    {
        public ClientWebSocket Socket { get; } = new();
        public SemaphoreSlim Window { get; } = new(ShutdownUnderLoadTests.Window);
        public Dictionary<long, bool> SentBeforeSignal { get; } = [];
        public HashSet<long> Answered { get; } = [];
        public int Results;
        public int ShuttingDown;
        public string? Problem;
        public WebSocketCloseStatus? Close;
        public volatile bool Stop;
        public TaskCompletionSource FirstAnswer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [Test, CancelAfter(120_000)]
    public async Task sigterm_with_1000_loaded_connections_answers_every_call_closes_all_with_1001_and_exits_0_in_time(CancellationToken cancellationToken)
    {
        ServerProbe.EnsureOpenFiles(8192).Should().BeGreaterThanOrEqualTo(Connections + 500);
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--shutdown-timeout", ShutdownTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var connections = new LoadedConnection[Connections];
        var signalled = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Connections), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var connection = new LoadedConnection();
            await connection.Socket.ConnectAsync(server.WebSocketUri, ct);
            connections[i] = connection;
        });

        Task[] loops = connections.Select(c => Task.WhenAll(SendLoopAsync(c, () => Volatile.Read(ref signalled) == 0, cancellationToken), ReceiveLoopAsync(c, cancellationToken))).ToArray();
        await Task.WhenAll(connections.Select(c => c.FirstAnswer.Task)).WaitAsync(cancellationToken); // every connection is loaded

        var clock = Stopwatch.StartNew();
        Volatile.Write(ref signalled, 1);
        server.Signal(ServerProcess.SIGTERM);
        int exitCode = await server.WaitForExitAsync(cancellationToken);
        TimeSpan exitAfter = clock.Elapsed;
        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);

        long sent = connections.Sum(c => c.SentBeforeSignal.Count);
        long sentBefore = connections.Sum(c => c.SentBeforeSignal.Count(s => s.Value));
        long results = connections.Sum(c => c.Results);
        long shuttingDown = connections.Sum(c => c.ShuttingDown);
        long unansweredBefore = connections.Sum(c => c.SentBeforeSignal.Count(s => s.Value && !c.Answered.Contains(s.Key)));
        long unansweredAfter = connections.Sum(c => c.SentBeforeSignal.Count(s => !s.Value && !c.Answered.Contains(s.Key)));
        var closes = connections.GroupBy(c => c.Close?.ToString() ?? "none (1006)").ToDictionary(g => g.Key, g => g.Count());
        string report = $"shutdown under load: exit {exitCode} {exitAfter.TotalMilliseconds:0} ms after SIGTERM (--shutdown-timeout {ShutdownTimeoutSeconds} s); "
            + $"{sent} calls sent ({sentBefore} before the signal): {results} results, {shuttingDown} x -32000, "
            + $"{unansweredBefore} sent before the signal unanswered, {unansweredAfter} sent after it unanswered (crossed the close frame); "
            + $"closes: {string.Join(", ", closes.Select(c => $"{c.Key}={c.Value}"))}";
        TestContext.Out.WriteLine(report);

        connections.Where(c => c.Problem is not null).Select(c => c.Problem).Should().BeEmpty("every answer is for a call sent, once, and is its result or -32000");
        exitCode.Should().Be(0, "a graceful shutdown exits 0: " + report);
        exitAfter.Should().BeLessThan(TimeSpan.FromSeconds(ShutdownTimeoutSeconds + 1), "the server exits within --shutdown-timeout + 1 s of the signal: " + report);
        closes.Should().ContainSingle().Which.Key.Should().Be(nameof(WebSocketCloseStatus.EndpointUnavailable), "every client sees close 1001, none 1006: " + report);
        unansweredBefore.Should().Be(0, "every call that reached the server before the signal gets its result or -32000: " + report);

        foreach (LoadedConnection connection in connections)
        {
            connection.Socket.Dispose();
        }
    }

    private static async Task SendLoopAsync(LoadedConnection connection, Func<bool> beforeSignal, CancellationToken cancellationToken)
    {
        try
        {
            for (long id = 1; !connection.Stop; id++)
            {
                await connection.Window.WaitAsync(cancellationToken);
                if (connection.Stop)
                {
                    break;
                }

                lock (connection.SentBeforeSignal)
                {
                    connection.SentBeforeSignal[id] = beforeSignal();
                }

                byte[] message = Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","method":"echo","params":[{{id}}],"id":{{id}}}""");
                await connection.Socket.SendAsync(message, WebSocketMessageType.Text, true, cancellationToken);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or InvalidOperationException or ObjectDisposedException)
        {
            // The connection closed under the sender: the receiver records how.
        }
    }

    private static async Task ReceiveLoopAsync(LoadedConnection connection, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[4096];
        try
        {
            while (true)
            {
                ValueWebSocketReceiveResult result = await connection.Socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    connection.Close = connection.Socket.CloseStatus;
                    connection.Stop = true;
                    connection.Window.Release(Window);
                    await connection.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                    return;
                }

                using JsonDocument answer = JsonDocument.Parse(buffer.AsMemory(0, result.Count));
                long id = answer.RootElement.GetProperty("id").GetInt64();
                lock (connection.SentBeforeSignal)
                {
                    if (!connection.SentBeforeSignal.ContainsKey(id) || !connection.Answered.Add(id))
                    {
                        connection.Problem ??= $"answer for id {id} that was not sent, or twice";
                    }
                }

                if (answer.RootElement.TryGetProperty("result", out JsonElement value))
                {
                    if (value.GetInt64() != id)
                    {
                        connection.Problem ??= $"wrong result {answer.RootElement.GetRawText()}";
                    }

                    connection.Results++;
                }
                else if (answer.RootElement.GetProperty("error").GetProperty("code").GetInt32() == -32000)
                {
                    connection.ShuttingDown++;
                    connection.Stop = true; // the server is going away: stop sending
                }
                else
                {
                    connection.Problem ??= $"unexpected answer {answer.RootElement.GetRawText()}";
                }

                connection.FirstAnswer.TrySetResult();
                connection.Window.Release();
            }
        }
        catch (Exception exception) when (exception is WebSocketException or JsonException)
        {
            connection.Stop = true;
            connection.Window.Release(Window);
            connection.FirstAnswer.TrySetResult();
        }
    }
}
