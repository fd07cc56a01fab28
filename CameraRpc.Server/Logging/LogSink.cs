using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using CameraRpc.Server.Configuration;
using CameraRpc.Server.Platform;

namespace CameraRpc.Server.Logging;

/// <summary>
/// Where log lines go: a bounded queue in front of one background writer that writes them to the
/// console (stdout) and the log file.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Enqueue"/> is safe from any thread, never blocks and never throws, so logging cannot slow
/// or fail a call (contract §4). When the queue is full the line is dropped and counted in
/// <see cref="DroppedLines"/>; the writer reports the count in the log itself, and /metrics exposes it.
/// </para>
/// <para>
/// Output is buffered and flushed when the queue runs empty, not per line: a burst of lines costs a
/// few write system calls, while a quiet server still shows each line at once.
/// </para>
/// <para>
/// The writer is a thread of its own, at a lower priority (nice +<see cref="WriterNiceIncrement"/>)
/// than the threads that serve calls. On a quiet or busy server this changes nothing: the writer
/// still gets all the CPU it asks for. Only when calls and log lines together want more CPU than
/// there is does it matter, and then calls win: at <c>info</c> every call logs two or three lines,
/// each written to the console and the file, and a writer competing as an equal took more than a third
/// of a saturated core, holding throughput under half of what the same server serves at
/// <c>warning</c>. Lines that do not fit are dropped, counted and reported, as always.
/// </para>
/// </remarks>
internal sealed class LogSink : IAsyncDisposable
{
    /// <summary>Lines the queue holds before new ones are dropped.</summary>
    public const int DefaultCapacity = 8192;

    // Drops are checked (and output flushed) at least this often while the queue never runs empty.
    private const int LinesPerCheck = 1024;

    private const int WriterBufferSize = 64 * 1024;

    /// <summary>How much lower the writer's priority is than the serving threads' (Linux nice units).</summary>
    internal const int WriterNiceIncrement = 10;

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private readonly Channel<LogEntry> _channel;
    private readonly int _capacity;
    private readonly TaskCompletionSource _writerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StreamWriter? _console;
    private StreamWriter? _file;
    private char[] _lineBuffer = new char[1024];
    private int _queued; // lines in the queue; approximate while a write and a read race, which is all a "full?" check needs
    private long _droppedLines;
    private long _reportedDroppedLines;

    /// <param name="console">Where console output goes (stdout in production), or null for none.</param>
    /// <param name="file">The opened log file, or null for none; the sink owns and closes it.</param>
    /// <param name="capacity">Lines the queue holds.</param>
    /// <param name="writerGate">
    /// Test hook: the writer takes no line off the queue before this task completes, which lets a test
    /// fill the queue deterministically.
    /// </param>
    internal LogSink(Stream? console, Stream? file, int capacity = DefaultCapacity, Task? writerGate = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _console = console is null ? null : new StreamWriter(console, s_utf8, WriterBufferSize, leaveOpen: true);
        _file = file is null ? null : new StreamWriter(file, s_utf8, WriterBufferSize, leaveOpen: false);

        // FullMode.Wait is never waited on (only TryWrite is used); unlike the Drop* modes it makes
        // TryWrite report a full queue, which is how drops get counted.
        _channel = Channel.CreateBounded<LogEntry>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        var writer = new Thread(WriteLoop) { IsBackground = true, Name = "CameraRpc log" };
        writer.UnsafeStart(writerGate ?? Task.CompletedTask);
    }

    /// <summary>Lines that could not be queued since the sink was created.</summary>
    public long DroppedLines => Interlocked.Read(ref _droppedLines);

    /// <summary>
    /// Opens the log file of <paramref name="options"/> (creating its folder) and starts the writer, or
    /// says in one line why the file cannot be opened, so the server can exit 1 before listening.
    /// </summary>
    public static bool TryCreate(ServerOptions options, [NotNullWhen(true)] out LogSink? sink, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(options);
        FileStream? file = null;
        if (options.LogFile is not null)
        {
            try
            {
                string fullPath = Path.GetFullPath(options.LogFile);
                if (Directory.Exists(fullPath))
                {
                    sink = null;
                    error = $"cannot open log file '{options.LogFile}': it is a folder";
                    return false;
                }

                string? folder = Path.GetDirectoryName(fullPath);
                if (!string.IsNullOrEmpty(folder))
                {
                    Directory.CreateDirectory(folder);
                }

                // Shared for reading and writing so operators can tail the file and rotation tools can copy it.
                file = new FileStream(fullPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException)
            {
                sink = null;
                error = $"cannot open log file '{options.LogFile}': {FileErrorText.Describe(ex)}";
                return false;
            }
        }

        // A thread inherits the priority of the thread that creates it, and .NET initialises the
        // terminal, starting its signal-handling thread, on the first write to the console. That first
        // write (of nothing) happens here, on the caller's thread, and not on the writer with its lowered
        // priority: SIGTERM must not be handled at the log's priority.
        Stream console = Console.OpenStandardOutput();
        try
        {
            console.Write(ReadOnlySpan<byte>.Empty);
        }
        catch (IOException)
        {
            // A broken stdout is the writer's to report (on the file) and give up.
        }

        sink = new LogSink(console, file);
        error = null;
        return true;
    }

    /// <summary>Queues one line; the time is taken now. Never blocks, never throws.</summary>
    /// <returns>False when the line was dropped because the queue is full or the sink is completed.</returns>
    public bool Enqueue(LogLevel level, string message)
    {
        if (DropIfFull())
        {
            return false;
        }

        if (_channel.Writer.TryWrite(new LogEntry(DateTime.UtcNow, level, message ?? string.Empty)))
        {
            Interlocked.Increment(ref _queued);
            return true;
        }

        Interlocked.Increment(ref _droppedLines);
        return false;
    }

    /// <summary>
    /// When the queue is full, counts one line as dropped and returns true, so that a caller about to
    /// build a long line (a message body) need not build it only to see it dropped. A server that
    /// logs faster than the writer can write spends its time on calls, not on lines nobody will read.
    /// </summary>
    public bool DropIfFull()
    {
        if (Volatile.Read(ref _queued) < _capacity)
        {
            return false;
        }

        Interlocked.Increment(ref _droppedLines);
        return true;
    }

    /// <summary>Stops taking lines, writes every queued one, flushes and closes the file.</summary>
    public Task CompleteAsync()
    {
        _channel.Writer.TryComplete();
        return _writerDone.Task;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(CompleteAsync());

    private void WriteLoop(object? gate)
    {
        ThreadNiceness.LowerCurrentThread(WriterNiceIncrement);
        ((Task)gate!).GetAwaiter().GetResult();
        ChannelReader<LogEntry> reader = _channel.Reader;
        try
        {
            while (WaitToRead(reader))
            {
                int sinceCheck = 0;
                while (reader.TryRead(out LogEntry entry))
                {
                    Interlocked.Decrement(ref _queued);
                    WriteLine(entry.UtcTime.ToLocalTime(), entry.Level, entry.Message);
                    if (++sinceCheck == LinesPerCheck)
                    {
                        sinceCheck = 0;
                        ReportDrops();
                        Flush();
                    }
                }

                ReportDrops();
                Flush();
            }
        }
        catch (Exception exception)
        {
            // A bug here must not take the server down with it (this is a thread of its own, where an
            // exception would end the process); whoever completes the sink sees it.
            _writerDone.TrySetException(exception);
        }
        finally
        {
            ReportDrops();
            Flush();
            Close();
            _writerDone.TrySetResult();
        }
    }

    /// <summary>Blocks this thread until a line is queued (true) or the queue is completed and empty (false).</summary>
    private static bool WaitToRead(ChannelReader<LogEntry> reader)
    {
        ValueTask<bool> wait = reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    private void ReportDrops()
    {
        long dropped = Interlocked.Read(ref _droppedLines);
        long newlyDropped = dropped - _reportedDroppedLines;
        if (newlyDropped > 0)
        {
            _reportedDroppedLines = dropped;
            WriteLine(DateTime.Now, LogLevel.Warning, string.Create(CultureInfo.InvariantCulture, $"{newlyDropped} log lines dropped (log queue full)"));
        }
    }

    private void WriteLine(DateTime localTime, LogLevel level, string message)
    {
        int needed = LogLineFormatter.GetMaxLength(message.Length) + 1;
        if (_lineBuffer.Length < needed)
        {
            _lineBuffer = new char[Math.Max(needed, _lineBuffer.Length * 2)];
        }

        int length = LogLineFormatter.Format(_lineBuffer, localTime, level, message);
        _lineBuffer[length++] = '\n';
        ReadOnlySpan<char> line = _lineBuffer.AsSpan(0, length);
        Write(ref _console, "console", line);
        Write(ref _file, "log file", line);
    }

    private void Flush()
    {
        Flush(ref _console, "console");
        Flush(ref _file, "log file");
    }

    // A target that fails (stdout closed, disk gone) is given up, so one broken target neither kills the
    // writer nor stops the other; the failure is reported on the other target if there is one.
    private void Write(ref StreamWriter? target, string name, ReadOnlySpan<char> line)
    {
        if (target is null)
        {
            return;
        }

        try
        {
            target.Write(line);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException)
        {
            GiveUp(ref target, name, ex);
        }
    }

    private void Flush(ref StreamWriter? target, string name)
    {
        if (target is null)
        {
            return;
        }

        try
        {
            target.Flush();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException)
        {
            GiveUp(ref target, name, ex);
        }
    }

    private void GiveUp(ref StreamWriter? target, string name, Exception ex)
    {
        StreamWriter failed = target!;
        target = null;
        try
        {
            failed.Dispose();
        }
        catch (Exception disposeEx) when (disposeEx is IOException or ObjectDisposedException or NotSupportedException)
        {
            // Already failing; nothing more to learn from the second error.
        }

        WriteLine(DateTime.Now, LogLevel.Error, $"Log output to the {name} failed and was turned off: {ex.Message}");
    }

    private void Close()
    {
        try
        {
            _file?.Dispose();
            _console?.Dispose();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException)
        {
            // Shutting down: there is nowhere left to report this.
        }

        _file = null;
        _console = null;
    }

    private readonly record struct LogEntry(DateTime UtcTime, LogLevel Level, string Message);
}
