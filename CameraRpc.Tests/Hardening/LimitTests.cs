using System.Net;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CameraRpc.Tests.Hardening.Methods;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Hardening;

/// <summary>Every limit of CONTRACT §1, exactly at the limit (accepted) and one past it (refused as the contract says).</summary>
[NonParallelizable]
public sealed class LimitTests
{
    private const int MaxMessage = 1000;

    /// <summary>An echo request of exactly <paramref name="size"/> bytes (padding in the echoed string).</summary>
    private static string EchoOfSize(int size, int id)
    {
        string empty = $$"""{"jsonrpc":"2.0","method":"echo","params":[""],"id":{{id}}}""";
        return empty.Replace("[\"\"]", "[\"" + new string('x', size - empty.Length) + "\"]", StringComparison.Ordinal);
    }

    [Test, CancelAfter(30_000)]
    public async Task a_websocket_message_of_exactly_max_message_bytes_is_answered_and_one_byte_more_closes_with_1009(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxMessageBytes = MaxMessage, ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using var other = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        await using (RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken))
        {
            string atLimit = EchoOfSize(MaxMessage, 1);
            Encoding.UTF8.GetByteCount(atLimit).Should().Be(MaxMessage);
            string answer = await client.CallAsync(atLimit, cancellationToken);
            answer.Should().Contain("\"result\":\"xxx", "a message of exactly --max-message-bytes is accepted");

            await client.SendAsync(EchoOfSize(MaxMessage + 1, 2), cancellationToken);
            (await client.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.MessageTooBig, "one byte over --max-message-bytes closes with 1009");
        }

        (await other.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":7}""", cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":7}""", "a 1009 on one connection does not affect another");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_fragmented_websocket_message_over_the_limit_closes_with_1009(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxMessageBytes = MaxMessage, ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using RawWebSocket raw = await RawWebSocket.ConnectAsync(server.Port, cancellationToken);
        byte[] message = Encoding.UTF8.GetBytes(EchoOfSize(MaxMessage + 1, 3));
        for (int offset = 0; offset < message.Length; offset += 100)
        {
            int length = Math.Min(100, message.Length - offset);
            await raw.SendFrameAsync(offset == 0 ? RawWebSocket.OpText : RawWebSocket.OpContinuation, message.AsSpan(offset, length), cancellationToken, fin: offset + length == message.Length);
        }

        (await raw.ReadCloseCodeAsync(cancellationToken)).Should().Be(1009, "the limit applies to the assembled message, not the frame");
    }

    [Test, CancelAfter(30_000)]
    public async Task an_http_body_of_exactly_max_message_bytes_is_answered_and_one_byte_more_is_413(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxMessageBytes = MaxMessage, ShutdownTimeout = TimeSpan.FromSeconds(1) });
        using var http = new HttpClient();

        using HttpResponseMessage atLimit = await http.PostAsync(server.HttpUri(), new StringContent(EchoOfSize(MaxMessage, 1), Encoding.UTF8, "application/json"), cancellationToken);
        atLimit.StatusCode.Should().Be(HttpStatusCode.OK, "a body of exactly --max-message-bytes is accepted");
        (await atLimit.Content.ReadAsStringAsync(cancellationToken)).Should().Contain("\"result\":\"xxx");

        using HttpResponseMessage over = await http.PostAsync(server.HttpUri(), new StringContent(EchoOfSize(MaxMessage + 1, 2), Encoding.UTF8, "application/json"), cancellationToken);
        over.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge, "one byte over --max-message-bytes is 413");

        // Without Content-Length (chunked), the cap must hold while reading.
        var chunked = new StringContent(EchoOfSize(MaxMessage + 1, 3), Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, server.HttpUri()) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using HttpResponseMessage overChunked = await http.SendAsync(request, cancellationToken);
        overChunked.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge, "a chunked body over the limit is 413 too");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_batch_of_max_batch_calls_is_answered_and_one_more_is_one_invalid_request_naming_the_limit(CancellationToken cancellationToken)
    {
        const int MaxBatch = 5;
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxBatch = MaxBatch, ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        static string Batch(int count) => "[" + string.Join(",", Enumerable.Range(1, count).Select(i => $$"""{"jsonrpc":"2.0","method":"echo","params":[{{i}}],"id":{{i}}}""")) + "]";

        using (JsonDocument atLimit = JsonDocument.Parse(await client.CallAsync(Batch(MaxBatch), cancellationToken)))
        {
            atLimit.RootElement.GetArrayLength().Should().Be(MaxBatch, "a batch of exactly --max-batch calls is answered in full");
            atLimit.RootElement.EnumerateArray().Select(a => a.GetProperty("result").GetInt32()).Should().BeEquivalentTo(Enumerable.Range(1, MaxBatch));
        }

        using JsonDocument over = JsonDocument.Parse(await client.CallAsync(Batch(MaxBatch + 1), cancellationToken));
        over.RootElement.ValueKind.Should().Be(JsonValueKind.Object, "a batch over --max-batch is answered with one object, not an array");
        over.RootElement.GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32600, "a batch over --max-batch is Invalid Request");
        over.RootElement.GetProperty("id").ValueKind.Should().Be(JsonValueKind.Null);
        over.RootElement.GetProperty("error").TryGetProperty("data", out JsonElement data).Should().BeTrue("the answer's data names the limit");
        data.GetRawText().Should().Contain(MaxBatch.ToString(System.Globalization.CultureInfo.InvariantCulture), "the data carries the limit's value");
    }

    [Test, CancelAfter(30_000)]
    public async Task nesting_64_deep_is_accepted_and_65_deep_is_a_parse_error(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        // The request object is depth 1 and "params" depth 2; the value inside adds the rest.
        static string Nested(int depth)
        {
            int inner = depth - 2;
            return """{"jsonrpc":"2.0","method":"echo","params":[""" + new string('[', inner) + new string(']', inner) + """],"id":1}""";
        }

        string atLimit = await client.CallAsync(Nested(64), cancellationToken);
        atLimit.Should().Contain("\"result\":", "a message nested exactly 64 deep is accepted");

        using JsonDocument over = JsonDocument.Parse(await client.CallAsync(Nested(65), cancellationToken));
        over.RootElement.GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32700, "nesting 65 deep is a parse error");

        using JsonDocument overInBatch = JsonDocument.Parse(await client.CallAsync("[" + Nested(64) + "]", cancellationToken));
        overInBatch.RootElement.ValueKind.Should().Be(JsonValueKind.Object, "the batch array is one more level: 65 in all");
        overInBatch.RootElement.GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32700, "nesting 65 deep counts the batch array too");
    }

    [Test, CancelAfter(30_000)]
    public async Task max_connections_are_accepted_and_one_more_gets_503_leaving_the_others_untouched(CancellationToken cancellationToken)
    {
        const int Limit = 3;
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxConnections = Limit, ShutdownTimeout = TimeSpan.FromSeconds(1) });
        var clients = new List<RpcTestClient>();
        try
        {
            for (int i = 0; i < Limit; i++)
            {
                clients.Add(await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken));
            }

            await using (RawWebSocket refused = await RawWebSocket.ConnectAsync(server.Port, cancellationToken))
            {
                refused.HandshakeStatus.Should().Be(503, "the upgrade over --max-connections is refused with 503");
            }

            foreach ((RpcTestClient client, int i) in clients.Select((c, i) => (c, i)))
            {
                (await client.CallAsync($$"""{"jsonrpc":"2.0","method":"ping","id":{{i}}}""", cancellationToken))
                    .Should().Be($$"""{"jsonrpc":"2.0","result":"pong","id":{{i}}}""", "the connections within the limit are untouched by the refusal");
            }

            await clients[0].DisposeAsync();
            clients.RemoveAt(0);
            await ServerProbe.PollUntilAsync(ct => ServerProbe.HealthConnectionsAsync(server.Port, ct), n => n == Limit - 1, cancellationToken);
            clients.Add(await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken));
            (await clients[^1].CallAsync("""{"jsonrpc":"2.0","method":"ping","id":9}""", cancellationToken))
                .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":9}""", "a freed slot can be used again");
        }
        finally
        {
            foreach (RpcTestClient client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task max_concurrency_calls_run_at_once_and_the_connection_reads_nothing_more_until_one_ends(CancellationToken cancellationToken)
    {
        const int Concurrency = 3;
        const int Extra = 2;
        (string key, HardeningGate gate) = HardeningGate.Create();
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxConcurrency = Concurrency, ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient other = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        // N + k calls that wait at the gate, and behind them a ping, which would be answered at once if read.
        for (int tag = 1; tag <= Concurrency + Extra; tag++)
        {
            await client.SendAsync(HardeningGate.Call(key, tag, tag.ToString(System.Globalization.CultureInfo.InvariantCulture)), cancellationToken);
        }

        await client.SendAsync("""{"jsonrpc":"2.0","method":"ping","id":"behind"}""", cancellationToken);
        await gate.WhenEnteredAsync(Concurrency, cancellationToken);

        // The server is not stalled: another connection is read and answered while the first holds N calls.
        (await other.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":"other"}""", cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":"other"}""", "--max-concurrency holds one connection, not the server");
        gate.Entered.Should().Be(Concurrency, "no call past the first --max-concurrency has started");

        gate.Open();
        var answers = new List<string>();
        for (int i = 0; i < Concurrency + Extra + 1; i++)
        {
            answers.Add(await client.ReceiveAsync(cancellationToken) is { } answer ? answer.Text : "closed");
        }

        // Nothing but the gate could hold the ping back: had the connection read it while N calls held every
        // permit, its answer would have been sent before the gate opened, and so would be the first to arrive.
        static string GateAnswer(int tag) => $$"""{"jsonrpc":"2.0","result":{{tag}},"id":{{tag}}}""";
        answers[0].Should().BeOneOf(Enumerable.Range(1, Concurrency).Select(GateAnswer),
            "the first answer is one of the N calls that held the permits: the connection read nothing more while they ran");
        answers.Should().BeEquivalentTo(
            Enumerable.Range(1, Concurrency + Extra).Select(GateAnswer).Append("""{"jsonrpc":"2.0","result":"pong","id":"behind"}"""),
            "every call is answered, those that waited for a permit too; none is dropped");
        gate.Entered.Should().Be(Concurrency + Extra);
        gate.MaxInside.Should().Be(Concurrency, "exactly --max-concurrency calls ran at once: the limit is reached and never passed");
    }

    [Test, CancelAfter(30_000)]
    public async Task an_idle_connection_is_closed_with_1001_while_one_that_keeps_sending_stays_open(CancellationToken cancellationToken)
    {
        TimeSpan idle = TimeSpan.FromSeconds(2); // the test process must not stall this long between two calls of the active client
        await using InProcessServer server = InProcessServer.Start(o => o with { IdleTimeout = idle, ShutdownTimeout = TimeSpan.FromSeconds(1) });

        // The active connection is opened first, so its idle clock starts first: a server that ignored its
        // messages would close it no later than the quiet one (one sweep looks at both with one clock).
        await using RpcTestClient active = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        var quietSince = System.Diagnostics.Stopwatch.StartNew(); // started before the server's clock for it
        await using RpcTestClient quiet = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        Task<WebSocketCloseStatus?> quietClosed = quiet.WaitForCloseAsync(cancellationToken);

        // Back to back, no pause: each call is a message that resets the active connection's idle clock.
        int calls = 0;
        while (!quietClosed.IsCompleted)
        {
            (await active.CallAsync($$"""{"jsonrpc":"2.0","method":"ping","id":{{calls}}}""", cancellationToken))
                .Should().Be($$"""{"jsonrpc":"2.0","result":"pong","id":{{calls}}}""", "a connection that keeps sending is not idle");
            calls++;
        }

        (await quietClosed).Should().Be(WebSocketCloseStatus.EndpointUnavailable, "a connection without any message for --idle-timeout is closed with 1001");
        quietSince.Elapsed.Should().BeGreaterThan(idle - TimeSpan.FromMilliseconds(20),
            "not before --idle-timeout (a lower bound: a slow machine only lengthens it; 20 ms for the server's coarse tick clock)");

        // After the quiet one's close, the active one, older and idle for longer had its messages not counted, still works.
        (await active.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":"after"}""", cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":"after"}""", "messages keep a connection open past --idle-timeout");
        active.Socket.State.Should().Be(WebSocketState.Open);
        TestContext.Out.WriteLine($"the active connection made {calls} calls while the quiet one went idle");
    }

    [Test, CancelAfter(30_000)]
    public async Task idle_timeout_0_keeps_a_silent_connection_open_past_the_time_another_server_closes_one(CancellationToken cancellationToken)
    {
        // The real executable, so that "--idle-timeout 0" is the option as an operator writes it.
        await using ServerProcess forever = await ServerProcess.StartAsync(cancellationToken, "--idle-timeout", "0");
        await using RpcTestClient silent = await RpcTestClient.ConnectAsync(forever.WebSocketUri, cancellationToken);
        (await silent.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":1}""", cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":1}""");
        Task<WebSocketCloseStatus?> silentClosed = silent.WaitForCloseAsync(cancellationToken);

        // The clock: a connection opened after the silent one's last message, on a server with --idle-timeout 1,
        // is closed as idle; by then the silent connection has been idle for longer than that.
        await using ServerProcess timing = await ServerProcess.StartAsync(cancellationToken, "--idle-timeout", "1");
        await using RpcTestClient reference = await RpcTestClient.ConnectAsync(timing.WebSocketUri, cancellationToken);
        (await reference.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.EndpointUnavailable, "--idle-timeout 1 closes a silent connection");

        silentClosed.IsCompleted.Should().BeFalse("with --idle-timeout 0 nothing closed the silent connection, idle for longer than the other server's timeout");
        silent.Socket.State.Should().Be(WebSocketState.Open);
        await using RpcTestClient second = await RpcTestClient.ConnectAsync(forever.WebSocketUri, cancellationToken);
        (await second.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":2}""", cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":2}""");
        (await ServerProbe.HealthConnectionsAsync(forever.Port, cancellationToken)).Should().Be(2, "the silent connection is still counted as open by the server");
    }
}
