using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CameraRpc.Protocol;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Metrics;
using CameraRpc.Server.Transport;
using CameraRpc.Tests.Transport.Support;

namespace CameraRpc.Tests.Transport;

/// <summary>
/// The connection's single writer over an in-memory wire (<c>WebSocket.CreateFromStream</c> on a
/// <see cref="ConnectionStream"/> over a <see cref="RecordingStream"/>): what goes out, in which order,
/// and in how many socket writes.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class OutboundWriterTests
{
    [Test]
    [CancelAfter(30_000)]
    public async Task answers_enqueued_from_several_threads_at_once_all_arrive_whole_and_in_each_threads_order(CancellationToken cancellationToken)
    {
        using var connection = new Connection();
        const int Threads = 8, PerThread = 250;
        using var start = new Barrier(Threads);
        Task[] producers = Enumerable.Range(0, Threads).Select(thread => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait(cancellationToken);
                for (int i = 0; i < PerThread; i++)
                {
                    connection.Writer.Enqueue(Message($$"""{"thread":{{thread}},"n":{{i}},"pad":"{{new string('x', i % 97)}}"}"""), WebSocketMessageType.Text);
                }
            },
            cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        await Task.WhenAll(producers);
        await connection.Writer.FlushedAsync().WaitAsync(cancellationToken);

        List<ServerFrame> frames = ServerFrame.Parse(connection.Wire.Written);
        frames.Should().HaveCount(Threads * PerThread, "every answer is sent, none twice").And.OnlyContain(frame => frame.Opcode == ServerFrame.Text);
        var lastSeen = new int[Threads];
        Array.Fill(lastSeen, -1);
        foreach (ServerFrame frame in frames)
        {
            using JsonDocument answer = JsonDocument.Parse(frame.Payload); // a torn frame would not parse
            int thread = answer.RootElement.GetProperty("thread").GetInt32();
            int n = answer.RootElement.GetProperty("n").GetInt32();
            n.Should().Be(lastSeen[thread] + 1, "messages enqueued by one thread go out in the order it enqueued them");
            lastSeen[thread] = n;
        }
    }

    [Test]
    public void a_burst_of_answers_held_while_the_read_loop_reads_leaves_in_one_socket_write()
    {
        using var connection = new Connection();
        connection.Writer.DeferWhileReading();
        for (int i = 0; i < 20; i++)
        {
            connection.Writer.Enqueue(Message($$"""{"jsonrpc":"2.0","result":"pong","id":{{i}}}"""), WebSocketMessageType.Text);
        }

        connection.Wire.Writes.Should().BeEmpty("the read loop still has input: answers wait for it to run out");
        connection.Writer.FlushDeferred();

        connection.Wire.Writes.Should().HaveCount(1, "the whole burst is one batch, one system call");
        ServerFrame.Parse(connection.Wire.Written).Should().HaveCount(20);
    }

    [Test]
    public void an_answer_with_no_writer_active_is_written_at_once_by_the_thread_that_enqueues_it()
    {
        using var connection = new Connection();
        connection.Writer.Enqueue(Message("""{"jsonrpc":"2.0","result":"pong","id":1}"""), WebSocketMessageType.Text);

        connection.Wire.Writes.Should().HaveCount(1, "the completing thread becomes the writer and sends synchronously");
    }

    [Test]
    public void held_answers_go_out_anyway_once_they_add_up_to_the_flush_threshold()
    {
        using var connection = new Connection();
        const int Size = 10 * 1024;
        int belowThreshold = (OutboundWriter.FlushThresholdBytes - 1) / Size; // 6 of them stay below
        connection.Writer.DeferWhileReading();
        for (int i = 0; i < belowThreshold; i++)
        {
            connection.Writer.Enqueue(Message(new string('a', Size)), WebSocketMessageType.Text);
        }

        connection.Wire.Writes.Should().BeEmpty();
        connection.Writer.Enqueue(Message(new string('a', Size)), WebSocketMessageType.Text);

        connection.Wire.Writes.Should().HaveCount(1, $"{OutboundWriter.FlushThresholdBytes} bytes waiting start one socket write with all of them");
        ServerFrame.Parse(connection.Wire.Written).Should().HaveCount(belowThreshold + 1);
    }

    [Test]
    public void a_scheduled_source_is_pulled_only_when_the_writer_runs()
    {
        using var connection = new Connection();
        var source = new QueueSource("""{"event":1}""", """{"event":2}""");
        connection.Writer.DeferWhileReading();

        connection.Writer.Schedule(source);
        source.Takes.Should().Be(0, "the source keeps its messages (and its own bound) until the writer is ready for them");

        connection.Writer.FlushDeferred();
        ServerFrame.Parse(connection.Wire.Written).Select(frame => frame.Text8).Should().Equal("""{"event":1}""", """{"event":2}""");
        source.Takes.Should().Be(3, "one take per message, then one that finds it empty and leaves the queue");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task a_scheduled_source_is_written_on_the_thread_pool_never_by_the_thread_that_scheduled_it(CancellationToken cancellationToken)
    {
        // The scheduling thread is a publisher offering an event to every subscriber of a topic: it must
        // only queue, or it would pay one socket write per subscriber per event.
        using var connection = new Connection();
        var source = new QueueSource("e1", "e2", "e3");
        var publisher = new Thread(() => connection.Writer.Schedule(source));
        publisher.Start();
        publisher.Join();

        await source.Drained.WaitAsync(cancellationToken);
        await connection.Writer.FlushedAsync().WaitAsync(cancellationToken);

        source.TakingThreads.Should().NotContain(publisher.ManagedThreadId).And.OnlyContain(id => id < 0, "a thread-pool thread writes the source's events");
        connection.Wire.Writes.Should().ContainSingle("the events the source gathered leave in one socket write");
        ServerFrame.Parse(connection.Wire.Written).Select(frame => frame.Text8).Should().Equal("e1", "e2", "e3");
    }

    [Test]
    public void a_scheduled_source_takes_turns_with_the_answers_queued_around_it()
    {
        using var connection = new Connection();
        var source = new QueueSource("s1", "s2");
        connection.Writer.DeferWhileReading();
        connection.Writer.Enqueue(Message("a1"), WebSocketMessageType.Text);
        connection.Writer.Schedule(source);
        connection.Writer.Enqueue(Message("a2"), WebSocketMessageType.Text);

        connection.Writer.FlushDeferred();

        ServerFrame.Parse(connection.Wire.Written).Select(frame => frame.Text8).Should().Equal(
            ["a1", "s1", "a2", "s2"], "a source hands over one message per turn and goes to the back of the queue");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task the_close_frame_is_last_and_nothing_queued_after_it_is_sent(CancellationToken cancellationToken)
    {
        using var connection = new Connection();
        var source = new QueueSource("late event");
        connection.Writer.Enqueue(Message("answer"), WebSocketMessageType.Text);

        connection.Writer.EnqueueClose(WebSocketCloseStatus.NormalClosure, "bye").Should().BeTrue();
        connection.Writer.EnqueueClose(WebSocketCloseStatus.EndpointUnavailable, "again").Should().BeFalse("a connection closes once");
        connection.Writer.Enqueue(Message("late answer"), WebSocketMessageType.Text);
        connection.Writer.Schedule(source);
        await connection.Writer.FlushedAsync().WaitAsync(cancellationToken);

        List<ServerFrame> frames = ServerFrame.Parse(connection.Wire.Written);
        frames.Select(frame => frame.Opcode).Should().Equal([ServerFrame.Text, ServerFrame.Close], "nothing may follow a close frame");
        frames[0].Text8.Should().Be("answer");
        source.Takes.Should().Be(0, "a source is not asked for messages that could not be sent");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task a_broken_peer_aborts_the_connection_and_later_messages_are_dropped_without_throwing(CancellationToken cancellationToken)
    {
        using var connection = new Connection();
        connection.Wire.FailWrites = true;

        connection.Writer.Enqueue(Message("first"), WebSocketMessageType.Text);
        connection.Socket.State.Should().Be(WebSocketState.Aborted, "a failed send means the peer is gone");

        Action more = () =>
        {
            connection.Writer.Enqueue(Message("second"), WebSocketMessageType.Text);
            connection.Writer.Schedule(new QueueSource("event"));
            connection.Writer.EnqueueClose(WebSocketCloseStatus.NormalClosure, string.Empty);
        };
        more.Should().NotThrow();
        await connection.Writer.FlushedAsync().WaitAsync(cancellationToken);
        connection.Wire.Writes.Should().HaveCount(1, "nothing more is tried on a broken connection");
    }

    [Test]
    public void a_client_that_never_reads_is_aborted_when_its_queue_passes_the_cap()
    {
        using var connection = new Connection(maxQueuedBytes: 1000);
        connection.Writer.DeferWhileReading(); // nothing leaves: as if the socket buffer were full
        connection.Writer.Enqueue(Message(new string('a', 600)), WebSocketMessageType.Text);
        connection.Socket.State.Should().Be(WebSocketState.Open);

        connection.Writer.Enqueue(Message(new string('b', 600)), WebSocketMessageType.Text);

        connection.Socket.State.Should().Be(WebSocketState.Aborted, "answers that cannot be delivered are not buffered forever");
    }

    [Test]
    public void messages_are_not_compressed_by_default_even_when_the_websocket_could()
    {
        using var connection = new Connection(deflate: true);
        connection.Writer.Enqueue(Message(new string('z', 4096)), WebSocketMessageType.Text);

        ServerFrame.Parse(connection.Wire.Written).Single().Compressed.Should().BeFalse("the default threshold is 'never'");
    }

    [Test]
    public void messages_from_the_threshold_up_are_compressed()
    {
        using var connection = new Connection(deflate: true, compressFromBytes: 1024);
        connection.Writer.Enqueue(Message(new string('z', 100)), WebSocketMessageType.Text);
        connection.Writer.Enqueue(Message(new string('z', 4096)), WebSocketMessageType.Text);

        ServerFrame.Parse(connection.Wire.Written).Select(frame => frame.Compressed).Should().Equal(
            [false, true], "below the threshold, and at or above it");
    }

    private static RpcResponseBuffer Message(string text)
    {
        RpcResponseBuffer buffer = RpcResponseBuffer.Rent();
        buffer.Write(Encoding.UTF8.GetBytes(text));
        return buffer;
    }

    /// <summary>A server WebSocket over an in-memory wire, with its writer.</summary>
    private sealed class Connection : IDisposable
    {
        public Connection(long maxQueuedBytes = 16 * 1024 * 1024, int compressFromBytes = int.MaxValue, bool deflate = false)
        {
            var stream = new ConnectionStream(Wire);
            Socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
            {
                IsServer = true,
                KeepAliveInterval = TimeSpan.Zero,
                DangerousDeflateOptions = deflate ? new WebSocketDeflateOptions() : null,
            });
            Writer = new OutboundWriter(Socket, stream.Batch, ServerLog.Disabled, new ServerMetrics(), "127.0.0.1:1", maxQueuedBytes, compressFromBytes);
        }

        public RecordingStream Wire { get; } = new();

        public WebSocket Socket { get; }

        public OutboundWriter Writer { get; }

        public void Dispose() => Socket.Dispose();
    }

    /// <summary>A subscription-like source: a fixed list of events, and a count of the writer's takes.</summary>
    private sealed class QueueSource(params string[] events) : IOutboundSource
    {
        private readonly Queue<string> _events = new(events);
        private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Takes { get; private set; }

        /// <summary>The threads the writer took messages on (thread-pool threads as negative ids).</summary>
        public List<int> TakingThreads { get; } = [];

        /// <summary>Completes when a take finds the source empty.</summary>
        public Task Drained => _drained.Task;

        public bool TryTakeNext([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RpcResponseBuffer? message)
        {
            Takes++;
            TakingThreads.Add(Thread.CurrentThread.IsThreadPoolThread ? -Environment.CurrentManagedThreadId : Environment.CurrentManagedThreadId);
            message = _events.TryDequeue(out string? next) ? Message(next) : null;
            if (message is null)
            {
                _drained.TrySetResult();
            }

            return message is not null;
        }
    }
}
