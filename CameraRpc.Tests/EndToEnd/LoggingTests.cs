using System.Text.RegularExpressions;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>The log file of CONTRACT section 4, written by the real executable for a whole session.</summary>
[NonParallelizable]
public sealed partial class LoggingTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => _folder = Path.Combine(Path.GetTempPath(), "camerarpc-e2e-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void DeleteFolder()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task a_session_writes_the_contract_lines_to_a_log_file_in_a_folder_created_for_it(CancellationToken cancellationToken)
    {
        string logFile = Path.Combine(_folder, "not", "yet", "server.log");
        string[] lines = await RunSessionAsync(logFile, RpcMessages.Ping(1), cancellationToken);

        string[] messages = lines.Select(line => MessageOf(line, "INFO")).ToArray();
        Match connected = messages.Select(m => ClientConnected().Match(m)).FirstOrDefault(m => m.Success)
            ?? throw new AssertionException("no 'Client connected' line in:\n" + string.Join("\n", lines));
        string client = connected.Groups["client"].Value;
        int port = ServerPort(messages);

        messages.Should().ContainInOrder(
            [
                $"Starting WebSocket JSON-RPC server on 127.0.0.1:{port}/ws",
                $"Server started successfully at ws://127.0.0.1:{port}/ws",
                $"Client connected: {client} (Total clients: 1)",
                $"Received from {client}: {RpcMessages.Ping(1)}",
                "Ping method called",
                $"Sending to {client}: {RpcMessages.Pong(1)}",
                $"Client disconnected: {client} (Total clients: 0)",
            ],
            "contract section 4 lists these lines for a session, in this order");
        client.Should().MatchRegex(@"^127\.0\.0\.1:\d+$", "the client is named by its IP and port");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_body_over_1024_bytes_is_cut_with_a_marker(CancellationToken cancellationToken)
    {
        string call = RpcMessages.EchoOfLength(3000);
        string[] lines = await RunSessionAsync(Path.Combine(_folder, "server.log"), call, cancellationToken);

        string received = lines.Select(line => MessageOf(line, "INFO")).Single(m => m.StartsWith("Received from ", StringComparison.Ordinal));
        string body = received[(received.IndexOf(": ", StringComparison.Ordinal) + 2)..];
        body.Should().Be(call[..1024] + " …[truncated, 3000 bytes total]", "a logged body is cut at 1024 bytes and says how long it was");
        string sent = lines.Select(line => MessageOf(line, "INFO")).Single(m => m.StartsWith("Sending to ", StringComparison.Ordinal));
        string answer = RpcMessages.EchoAnswer(call);
        sent[(sent.IndexOf(": ", StringComparison.Ordinal) + 2)..].Should().Be(
            answer[..1024] + $" …[truncated, {answer.Length} bytes total]", "the answer is cut the same way");
    }

    /// <summary>Runs one client session with <paramref name="call"/>, stops the server with SIGTERM and returns the log file's lines.</summary>
    private static async Task<string[]> RunSessionAsync(string logFile, string call, CancellationToken cancellationToken)
    {
        await using (ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--log-file", logFile))
        {
            await using (RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken))
            {
                await client.CallAsync(call, cancellationToken);
            }

            await server.WaitForLineAsync(line => line.Contains("Client disconnected", StringComparison.Ordinal), cancellationToken);

            // The file is complete once the server has exited: the background writer flushes at shutdown.
            server.Signal(ServerProcess.SIGTERM);
            (await server.WaitForExitAsync(cancellationToken)).Should().Be(0, "a graceful shutdown exits 0");
        }

        File.Exists(logFile).Should().BeTrue("--log-file creates the file and the folders it needs");
        string[] lines = await File.ReadAllLinesAsync(logFile, cancellationToken);
        lines.Should().OnlyContain(line => LogLine().IsMatch(line), "every line has the format yyyy-MM-dd HH:mm:ss,fff - CameraRpc.Server - LEVEL - message");
        return lines;
    }

    private static string MessageOf(string line, string level)
    {
        Match match = LogLine().Match(line);
        return match.Success && match.Groups["level"].Value == level ? match.Groups["message"].Value : "";
    }

    private static int ServerPort(string[] messages)
    {
        Match started = messages.Select(m => Started().Match(m)).First(m => m.Success);
        return int.Parse(started.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - CameraRpc\.Server - (?<level>DEBUG|INFO|WARNING|ERROR) - (?<message>.*)$")]
    private static partial Regex LogLine();

    [GeneratedRegex(@"^Client connected: (?<client>\S+) \(Total clients: 1\)$")]
    private static partial Regex ClientConnected();

    [GeneratedRegex(@"^Server started successfully at ws://127\.0\.0\.1:(?<port>\d+)/ws$")]
    private static partial Regex Started();
}
