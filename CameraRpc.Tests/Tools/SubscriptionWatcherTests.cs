using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using CameraRpc.Server.Tools.Cli;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Server.Tools.Watch;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Tools;

/// <summary>
/// watch's loop over a scripted connection (no socket): what it sends, what it prints, when it stops and
/// with which exit code (contract section 6 for the wire, section 1 for the codes).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class SubscriptionWatcherTests
{
    private const string Answer1 = """{"jsonrpc":"2.0","result":"s1","id":1}""";
    private const string Unsubscribed = """{"jsonrpc":"2.0","result":true,"id":2}""";

    private static string Event(long seq, string result, string subscription = "s1", string topic = "camera.controls") =>
        $$$"""{"jsonrpc":"2.0","method":"{{{topic}}}","params":{"subscription":"{{{subscription}}}","seq":{{{seq}}},"result":{{{result}}}}}""";

    private static string End(long seq, string reason) =>
        $$$"""{"jsonrpc":"2.0","method":"camera.controls","params":{"subscription":"s1","seq":{{{seq}}},"end":"{{{reason}}}"}}""";

    [Test]
    [CancelAfter(10_000)]
    public async Task the_subscribe_request_names_the_topic_and_its_params(CancellationToken cancellationToken)
    {
        var channel = new ScriptedChannel(sent => sent.Contains("rpc.subscribe") ? [Answer1, Event(1, "1")] : [Unsubscribed]);

        await new SubscriptionWatcher(channel, new StringWriter(), new StringWriter()).RunAsync("camera.controls", """{"device":0}""", 1, cancellationToken);

        channel.Sent[0].Should().Be("""{"jsonrpc":"2.0","method":"rpc.subscribe","params":{"topic":"camera.controls","params":{"device":0}},"id":1}""");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task each_event_is_one_json_line_and_count_stops_after_exactly_n_with_an_unsubscribe(CancellationToken cancellationToken)
    {
        var channel = new ScriptedChannel(sent => sent.Contains("rpc.subscribe")
            ? [Answer1, Event(1, """{"exposure":12.5,"name":"é"}"""), Event(2, "[1, 2]"), Event(3, "3")]
            : [Unsubscribed]);
        var stdout = new StringWriter();

        int exitCode = await new SubscriptionWatcher(channel, stdout, new StringWriter()).RunAsync("camera.controls", null, 2, cancellationToken);

        exitCode.Should().Be(ExitCodes.Success, "--count reached is a normal end");
        Lines(stdout).Should().Equal(
            ["""{"seq":1,"result":{"exposure":12.5,"name":"é"}}""", """{"seq":2,"result":[1,2]}"""],
            "one compact line per event, and no more than --count");
        channel.Sent.Should().HaveCount(2);
        channel.Sent[1].Should().Be("""{"jsonrpc":"2.0","method":"rpc.unsubscribe","params":{"subscription":"s1"},"id":2}""", "it unsubscribes before leaving");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task a_refused_subscribe_is_exit_1_with_the_error_on_stderr_and_nothing_on_stdout(CancellationToken cancellationToken)
    {
        var channel = new ScriptedChannel(_ =>
            ["""{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"topic","reason":"unknown"}},"id":1}"""]);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exitCode = await new SubscriptionWatcher(channel, stdout, stderr).RunAsync("nosuch", null, null, cancellationToken);

        exitCode.Should().Be(ExitCodes.ErrorAnswer, "an error answer to rpc.subscribe is exit 1, as call's error answer");
        stdout.ToString().Should().BeEmpty();
        Lines(stderr).Should().ContainSingle().Which.Should().Contain("nosuch").And.Contain("-32602").And.Contain("\"reason\":\"unknown\"");
        channel.Sent.Should().ContainSingle("nothing was subscribed, so nothing is unsubscribed");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task the_servers_end_stops_it_with_exit_0_and_the_reason_without_an_unsubscribe(CancellationToken cancellationToken)
    {
        var channel = new ScriptedChannel(_ => [Answer1, Event(1, "1"), End(2, "shutdown")]);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exitCode = await new SubscriptionWatcher(channel, stdout, stderr).RunAsync("camera.controls", null, null, cancellationToken);

        exitCode.Should().Be(ExitCodes.Success);
        Lines(stdout).Should().Equal(["""{"seq":1,"result":1}"""]);
        Lines(stderr).Should().ContainSingle().Which.Should().Contain("ended the subscription (shutdown)");
        channel.Sent.Should().ContainSingle("an ended subscription needs no unsubscribe");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task events_of_other_subscriptions_and_other_notifications_are_not_printed(CancellationToken cancellationToken)
    {
        var channel = new ScriptedChannel(_ =>
        [
            Event(1, "\"early, not ours\"", subscription: "other"),
            Answer1,
            """{"jsonrpc":"2.0","method":"log","params":{"text":"hi"}}""",
            Event(1, "\"theirs\"", subscription: "s2", topic: "server.stats"),
            Event(1, "\"ours\""),
            End(2, "completed"),
        ]);
        var stdout = new StringWriter();

        await new SubscriptionWatcher(channel, stdout, new StringWriter()).RunAsync("camera.controls", null, null, cancellationToken);

        Lines(stdout).Should().Equal(["""{"seq":1,"result":"ours"}"""]);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task a_gap_in_seq_is_reported_on_stderr(CancellationToken cancellationToken)
    {
        var channel = new ScriptedChannel(_ => [Answer1, Event(1, "1"), Event(4, "4"), End(7, "overflow")]);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        await new SubscriptionWatcher(channel, stdout, stderr).RunAsync("camera.controls", null, null, cancellationToken);

        Lines(stdout).Should().HaveCount(2, "every event that came is printed");
        Lines(stderr).Should().Equal(
            "watch: 2 events missed before seq 4 (dropped or coalesced by the server)",
            "watch: 2 events missed before seq 7 (dropped or coalesced by the server)",
            "watch: the server ended the subscription (overflow)");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task stopping_it_unsubscribes_first_and_exits_0(CancellationToken cancellationToken)
    {
        var channel = new ScriptedChannel(sent => sent.Contains("rpc.subscribe") ? [Answer1, Event(1, "1")] : [Unsubscribed]);
        var stdout = new SignallingWriter();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        Task<int> watching = new SubscriptionWatcher(channel, stdout, new StringWriter()).RunAsync("camera.controls", null, null, stop.Token);
        await stdout.FirstLine.WaitAsync(cancellationToken);
        await stop.CancelAsync();
        int exitCode = await watching.WaitAsync(cancellationToken);

        exitCode.Should().Be(ExitCodes.Success, "Ctrl+C is a normal end");
        channel.Sent.Should().HaveCount(2);
        channel.Sent[1].Should().Contain("rpc.unsubscribe").And.Contain("\"s1\"");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task an_unanswered_unsubscribe_does_not_keep_it_waiting(CancellationToken cancellationToken)
    {
        var channel = new ScriptedChannel(sent => sent.Contains("rpc.subscribe") ? [Answer1, Event(1, "1")] : []);
        var stderr = new StringWriter();
        var watcher = new SubscriptionWatcher(channel, new StringWriter(), stderr) { UnsubscribeTimeout = TimeSpan.FromMilliseconds(50) };

        int exitCode = await watcher.RunAsync("camera.controls", null, 1, cancellationToken);

        exitCode.Should().Be(ExitCodes.Success, "the events were printed; the connection's close ends the subscription anyway");
        Lines(stderr).Should().ContainSingle().Which.Should().Contain("no answer to rpc.unsubscribe");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task a_connection_that_closes_before_the_end_is_a_connection_failure(CancellationToken cancellationToken)
    {
        var channel = new ScriptedChannel(_ => [Answer1, Event(1, "1")]);
        var stdout = new SignallingWriter();
        var watcher = new SubscriptionWatcher(channel, stdout, new StringWriter());

        Task<int> watching = watcher.RunAsync("camera.controls", null, null, cancellationToken);
        await stdout.FirstLine.WaitAsync(cancellationToken);
        channel.Close();

        await FluentActions.Awaiting(() => watching).Should().ThrowAsync<RpcConnectionException>("the command turns it into exit 2 with its one line");
    }

    [TestCase("{\"seq\":1,\"result\":null}", 1, "null")]
    [TestCase("{\"seq\":9007199254740993,\"result\":\"a\\\"b\"}", 9007199254740993, "\"a\\\"b\"")]
    public void the_event_line_holds_seq_and_the_result_as_sent(string expected, long seq, string result)
    {
        using JsonDocument document = JsonDocument.Parse(result);

        SubscriptionMessages.EventLine(seq, document.RootElement).Should().Be(expected);
    }

    private static string[] Lines(StringWriter writer) =>
        writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>A connection whose server answers each sent message with scripted messages.</summary>
    private sealed class ScriptedChannel(Func<string, string[]> reply) : IRpcMessageChannel
    {
        private readonly Channel<RpcAnswer> _toClient = Channel.CreateUnbounded<RpcAnswer>();

        public List<string> Sent { get; } = [];

        public Task SendMessageAsync(byte[] message, CancellationToken cancellationToken)
        {
            string text = Encoding.UTF8.GetString(message);
            lock (Sent)
            {
                Sent.Add(text);
            }

            foreach (string answer in reply(text))
            {
                _toClient.Writer.TryWrite(RpcAnswer.TryParse(Encoding.UTF8.GetBytes(answer))!);
            }

            return Task.CompletedTask;
        }

        public async Task<RpcAnswer> ReceiveMessageAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await _toClient.Reader.ReadAsync(cancellationToken);
            }
            catch (ChannelClosedException exception)
            {
                throw new RpcConnectionException("ws://test/ws closed the connection before answering (close 1001)", exception);
            }
        }

        public void Close() => _toClient.Writer.Complete();
    }

    /// <summary>A StringWriter that says when the first line was written.</summary>
    private sealed class SignallingWriter : StringWriter
    {
        private readonly TaskCompletionSource _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstLine => _firstLine.Task;

        public override Task WriteLineAsync(string? value)
        {
            base.WriteLine(value);
            _firstLine.TrySetResult();
            return Task.CompletedTask;
        }
    }
}
