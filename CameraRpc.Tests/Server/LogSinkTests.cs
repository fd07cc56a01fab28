using System.Text;
using System.Text.RegularExpressions;
using CameraRpc.Server.Configuration;
using CameraRpc.Server.Logging;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Server;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class LogSinkTests
{
    private const string LinePattern = @"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - CameraRpc\.Server - (DEBUG|INFO|WARNING|ERROR) - ";

    private string _folder = null!;

    [SetUp]
    public void SetUp() => _folder = Path.Combine(Path.GetTempPath(), "camerarpc-logsink-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task lines_reach_the_file_in_order_and_the_folder_is_created(CancellationToken cancellationToken)
    {
        string file = Path.Combine(_folder, "nested", "server.log");
        var options = ServerOptions.Default with { LogFile = file };

        LogSink.TryCreate(options, out LogSink? sink, out string? error).Should().BeTrue(error);
        for (int i = 0; i < 100; i++)
        {
            sink!.Enqueue(LogLevel.Info, $"line {i}");
        }

        sink!.Enqueue(LogLevel.Error, "last");
        await sink.CompleteAsync().WaitAsync(cancellationToken);

        string[] lines = await File.ReadAllLinesAsync(file, cancellationToken);
        lines.Should().HaveCount(101);
        lines.Should().AllSatisfy(line => line.Should().MatchRegex(LinePattern));
        lines.Take(100).Select(l => l[(l.LastIndexOf(" - ", StringComparison.Ordinal) + 3)..])
            .Should().Equal(Enumerable.Range(0, 100).Select(i => $"line {i}"));
        lines[^1].Should().EndWith(" - CameraRpc.Server - ERROR - last");
        sink.DroppedLines.Should().Be(0);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task a_second_sink_appends_to_an_existing_file(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_folder);
        string file = Path.Combine(_folder, "server.log");
        await File.WriteAllTextAsync(file, "earlier line\n", cancellationToken);

        LogSink.TryCreate(ServerOptions.Default with { LogFile = file }, out LogSink? sink, out _).Should().BeTrue();
        sink!.Enqueue(LogLevel.Info, "new line");
        await sink.CompleteAsync().WaitAsync(cancellationToken);

        string[] lines = await File.ReadAllLinesAsync(file, cancellationToken);
        lines.Should().HaveCount(2);
        lines[0].Should().Be("earlier line");
        lines[1].Should().EndWith(" - INFO - new line");
    }

    [Test]
    public void a_log_file_that_cannot_be_opened_is_reported_in_one_line()
    {
        Directory.CreateDirectory(_folder);
        string blocker = Path.Combine(_folder, "not-a-folder");
        File.WriteAllText(blocker, "a file where the log folder should be");
        var options = ServerOptions.Default with { LogFile = Path.Combine(blocker, "server.log") };

        bool created = LogSink.TryCreate(options, out LogSink? sink, out string? error);

        created.Should().BeFalse();
        sink.Should().BeNull();
        error.Should().StartWith($"cannot open log file '{options.LogFile}': ").And.NotContain("\n");
    }

    [Test]
    public void a_log_file_path_naming_a_folder_is_reported_as_such()
    {
        Directory.CreateDirectory(_folder);

        LogSink.TryCreate(ServerOptions.Default with { LogFile = _folder }, out _, out string? error).Should().BeFalse();

        error.Should().Be($"cannot open log file '{_folder}': it is a folder");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task a_full_queue_drops_lines_without_blocking_and_counts_them(CancellationToken cancellationToken)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var console = new MemoryStream();
        var sink = new LogSink(console, file: null, capacity: 4, writerGate: gate.Task);

        // The writer is held at the gate, so exactly four lines fit and the other six are dropped.
        bool[] accepted = Enumerable.Range(0, 10).Select(i => sink.Enqueue(LogLevel.Info, $"line {i}")).ToArray();

        accepted.Should().Equal(true, true, true, true, false, false, false, false, false, false);
        sink.DroppedLines.Should().Be(6);

        gate.SetResult();
        await sink.CompleteAsync().WaitAsync(cancellationToken);

        string[] lines = Encoding.UTF8.GetString(console.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(5);
        lines.Take(4).Should().AllSatisfy(line => line.Should().MatchRegex(LinePattern + "line [0-3]$"));
        lines[4].Should().MatchRegex(LinePattern.Replace("(DEBUG|INFO|WARNING|ERROR)", "WARNING", StringComparison.Ordinal) + "6 log lines dropped \\(log queue full\\)$");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task drops_are_reported_once_for_each_time_the_count_grew(CancellationToken cancellationToken)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var console = new MemoryStream();
        var sink = new LogSink(console, file: null, capacity: 1, writerGate: gate.Task);
        sink.Enqueue(LogLevel.Info, "kept");
        sink.Enqueue(LogLevel.Info, "dropped");

        gate.SetResult();
        await sink.CompleteAsync().WaitAsync(cancellationToken);

        string output = Encoding.UTF8.GetString(console.ToArray());
        Regex.Matches(output, "log lines dropped").Should().HaveCount(1, "the count is reported when it grew, not again at completion");
        output.Should().Contain(" - WARNING - 1 log lines dropped (log queue full)\n");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task message_bodies_that_meet_a_full_queue_are_counted_as_dropped(CancellationToken cancellationToken)
    {
        // The body lines skip building their text when the queue is full; they must still be counted.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var console = new MemoryStream();
        var sink = new LogSink(console, file: null, capacity: 2, writerGate: gate.Task);
        var log = new ServerLog(sink, LogLevel.Info);

        log.Received("127.0.0.1:1", """{"jsonrpc":"2.0","method":"ping","id":1}"""u8);
        log.Sending("127.0.0.1:1", """{"jsonrpc":"2.0","result":"pong","id":1}"""u8);
        log.Received("127.0.0.1:1", """{"jsonrpc":"2.0","method":"ping","id":2}"""u8);
        log.Sending("127.0.0.1:1", """{"jsonrpc":"2.0","result":"pong","id":2}"""u8);
        log.Info("Ping method called");
        sink.DroppedLines.Should().Be(3);

        gate.SetResult();
        await sink.CompleteAsync().WaitAsync(cancellationToken);

        string output = Encoding.UTF8.GetString(console.ToArray());
        output.Should().Contain("""Received from 127.0.0.1:1: {"jsonrpc":"2.0","method":"ping","id":1}""")
            .And.Contain("""Sending to 127.0.0.1:1: {"jsonrpc":"2.0","result":"pong","id":1}""")
            .And.NotContain("\"id\":2")
            .And.Contain(" - WARNING - 3 log lines dropped (log queue full)\n");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task a_line_enqueued_after_completion_is_counted_as_dropped(CancellationToken cancellationToken)
    {
        var sink = new LogSink(Stream.Null, file: null);
        await sink.CompleteAsync().WaitAsync(cancellationToken);

        sink.Enqueue(LogLevel.Info, "too late").Should().BeFalse();
        sink.DroppedLines.Should().Be(1);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task a_failing_console_does_not_stop_the_file(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_folder);
        string path = Path.Combine(_folder, "server.log");
        var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        var sink = new LogSink(new FailingStream(), file);

        sink.Enqueue(LogLevel.Info, "first");
        await sink.CompleteAsync().WaitAsync(cancellationToken);

        string text = await File.ReadAllTextAsync(path, cancellationToken);
        text.Should().Contain(" - INFO - first\n");
        text.Should().Contain(" - ERROR - Log output to the console failed and was turned off: ");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task server_log_writes_the_contract_lines_and_skips_disabled_levels(CancellationToken cancellationToken)
    {
        var console = new MemoryStream();
        var sink = new LogSink(console, file: null);
        var log = new ServerLog(sink, LogLevel.Info);

        log.Starting("0.0.0.0", 8002, "/ws");
        log.Started("ws://0.0.0.0:8002/ws");
        log.ClientConnected("127.0.0.1:54321", 1);
        log.Received("127.0.0.1:54321", """{"jsonrpc":"2.0","method":"ping","id":1}"""u8);
        ((CameraRpc.Protocol.IRpcLogger)log).Log(CameraRpc.Protocol.RpcLogLevel.Info, "Ping method called");
        log.Sending("127.0.0.1:54321", """{"jsonrpc":"2.0","result":"pong","id":1}"""u8);
        log.ConnectionClosed("127.0.0.1:54321", 1000, "bye");
        log.Debug("not written at info");
        log.ClientDisconnected("127.0.0.1:54321", 0);
        log.HandlerFailed("boom", new InvalidOperationException("bad\nthing"));
        await sink.CompleteAsync().WaitAsync(cancellationToken);

        string[] messages = Encoding.UTF8.GetString(console.ToArray())
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => Regex.Replace(line, LinePattern, string.Empty))
            .ToArray();
        messages.Should().HaveCount(8);
        messages[..7].Should().Equal(
            "Starting WebSocket JSON-RPC server on 0.0.0.0:8002/ws",
            "Server started successfully at ws://0.0.0.0:8002/ws",
            "Client connected: 127.0.0.1:54321 (Total clients: 1)",
            """Received from 127.0.0.1:54321: {"jsonrpc":"2.0","method":"ping","id":1}""",
            "Ping method called",
            """Sending to 127.0.0.1:54321: {"jsonrpc":"2.0","result":"pong","id":1}""",
            "Client disconnected: 127.0.0.1:54321 (Total clients: 0)");
        messages[7].Should().StartWith(@"Method 'boom' failed: System.InvalidOperationException: bad\nthing");
        ServerLog.Disabled.IsEnabled(LogLevel.Error).Should().BeFalse();
    }

    private sealed class FailingStream : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => throw new IOException("broken pipe");

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("broken pipe");

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
