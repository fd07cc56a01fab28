using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Hardening;

/// <summary>
/// Bad input thrown at the real executable over raw sockets, seeded and reproducible: the seed is
/// printed, and <c>HARDENING_FUZZ_SEED=N</c> replays a run. Throughout, a well-behaved client on its own
/// connection keeps calling and every one of its answers is checked (<see cref="SteadyClient"/>).
/// </summary>
[NonParallelizable]
public sealed class FuzzTests
{
    private static readonly int[] s_contractCodes = [-32700, -32600, -32601, -32602, -32603, -32000];

    private ServerProcess _server = null!;
    private SteadyClient _steady = null!;
    private Random _random = null!;
    private int _seed;

    [SetUp]
    public async Task StartAsync()
    {
        _seed = Environment.GetEnvironmentVariable("HARDENING_FUZZ_SEED") is { Length: > 0 } text
            ? int.Parse(text, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        TestContext.Out.WriteLine($"fuzz seed: {_seed} (replay with HARDENING_FUZZ_SEED={_seed})");
        _random = new Random(_seed);
        using var startup = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _server = await ServerProcess.StartAsync(startup.Token);
        _steady = await SteadyClient.StartAsync(_server.WebSocketUri, startup.Token);
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _steady.DisposeAsync();
        await _server.DisposeAsync();
    }

    /// <summary>After the abuse: the steady client made progress and every answer was right; the server still serves a new client.</summary>
    private async Task AssertServerStillServesAsync(CancellationToken cancellationToken)
    {
        await _steady.WaitForProgressAsync(5, cancellationToken);
        int answered = await _steady.StopAsync();
        TestContext.Out.WriteLine($"steady client: {answered} answers, all correct");
        await using RpcTestClient fresh = await RpcTestClient.ConnectAsync(_server.WebSocketUri, cancellationToken);
        (await fresh.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":"after"}""", cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":"after"}""", $"the server survives the fuzzing (seed {_seed})");
    }

    /// <summary>Sends <paramref name="message"/>, then a ping; every message up to the ping's answer must be a contract answer.</summary>
    private async Task<List<JsonElement>> SendThenProbeAsync(RawWebSocket socket, byte[] message, int opcode, int probe, CancellationToken cancellationToken)
    {
        await socket.SendFrameAsync(opcode, message, cancellationToken);
        await socket.SendTextAsync($$"""{"jsonrpc":"2.0","method":"ping","id":"probe-{{probe}}"}""", cancellationToken);
        var answers = new List<JsonElement>();
        string sent = Encoding.UTF8.GetString(message);
        while (true)
        {
            RawFrame? frame = await socket.ReadMessageAsync(cancellationToken);
            frame.Should().NotBeNull($"the connection stays open after a well-framed message (seed {_seed}, close {socket.LastClose?.CloseCode}): {Truncate(sent)}");
            using JsonDocument document = JsonDocument.Parse(frame!.Value.Payload);
            JsonElement root = document.RootElement.Clone();
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id", out JsonElement id) && id.ValueKind == JsonValueKind.String && id.GetString() == $"probe-{probe}")
            {
                root.GetProperty("result").GetString().Should().Be("pong", "the probe behind the bad input is answered correctly");
                frame.Value.Opcode.Should().Be(RawWebSocket.OpText);
                return answers;
            }

            foreach (JsonElement answer in root.ValueKind == JsonValueKind.Array ? root.EnumerateArray().ToArray() : [root])
            {
                AssertIsContractAnswer(answer, sent);
            }

            frame.Value.Opcode.Should().Be(opcode, "the answer goes back in the frame type of the request");
            answers.Add(root);
        }
    }

    private void AssertIsContractAnswer(JsonElement answer, string sent)
    {
        answer.GetProperty("jsonrpc").GetString().Should().Be("2.0");
        if (answer.TryGetProperty("error", out JsonElement error))
        {
            int code = error.GetProperty("code").GetInt32();
            s_contractCodes.Should().Contain(code, $"only the contract's codes are used (seed {_seed}): {Truncate(sent)}");
            string text = error.GetRawText();
            text.Should().NotContainAny(["Exception", "   at ", ".cs:line"], "no exception text or stack reaches a client");
        }
        else
        {
            answer.TryGetProperty("result", out _).Should().BeTrue("an answer has a result or an error");
        }
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";

    private string RandomAscii(int length)
    {
        const string Alphabet = "{}[]\":,0123456789-+.eE truefalsnl\\/abcxyz\t\r\n";
        var builder = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            builder.Append(Alphabet[_random.Next(Alphabet.Length)]);
        }

        return builder.ToString();
    }

    private static readonly string[] s_validRequests =
    [
        """{"jsonrpc":"2.0","method":"echo","params":["hello",1],"id":1}""",
        """{"jsonrpc":"2.0","method":"echo","params":{"message":{"a":[1,2,{"b":null}]}},"id":"x"}""",
        """[{"jsonrpc":"2.0","method":"ping","id":1},{"jsonrpc":"2.0","method":"echo","params":[true],"id":2},{"jsonrpc":"2.0","method":"ping"}]""",
        """{"jsonrpc":"2.0","method":"nope","params":[],"id":null}""",
    ];

    [Test, CancelAfter(60_000)]
    public async Task random_truncated_and_mutated_json_is_answered_by_the_contract_and_the_connection_lives_on(CancellationToken cancellationToken)
    {
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken);
        socket.HandshakeStatus.Should().Be(101);
        int parseErrors = 0;
        for (int i = 0; i < 600; i++)
        {
            string valid = s_validRequests[_random.Next(s_validRequests.Length)];
            (string kind, string message) = _random.Next(4) switch
            {
                0 => ("random", RandomAscii(_random.Next(1, 300))),
                1 => ("truncated", valid[.._random.Next(1, valid.Length)]),
                2 => ("mutated", Mutate(valid)),
                _ => ("spliced", valid[.._random.Next(valid.Length)] + RandomAscii(_random.Next(1, 20)) + valid[_random.Next(valid.Length)..]),
            };

            int opcode = _random.Next(2) == 0 ? RawWebSocket.OpText : RawWebSocket.OpBinary;
            List<JsonElement> answers = await SendThenProbeAsync(socket, Encoding.UTF8.GetBytes(message), opcode, i, cancellationToken);
            if (kind == "truncated")
            {
                answers.Should().ContainSingle($"a truncated message is not JSON: one answer (seed {_seed}): {message}");
                answers[0].GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32700, $"a truncated message is a parse error (seed {_seed}): {message}");
                answers[0].GetProperty("id").ValueKind.Should().Be(JsonValueKind.Null, "a parse error has id null");
            }

            parseErrors += answers.Count(a => a.ValueKind == JsonValueKind.Object && a.TryGetProperty("error", out JsonElement e) && e.GetProperty("code").GetInt32() == -32700);
        }

        TestContext.Out.WriteLine($"600 fuzzed messages, {parseErrors} parse errors");
        await AssertServerStillServesAsync(cancellationToken);
    }

    private string Mutate(string valid)
    {
        char[] chars = valid.ToCharArray();
        const string Alphabet = "{}[]\":,0-9e.\\ an";
        for (int n = _random.Next(1, 4); n > 0; n--)
        {
            chars[_random.Next(chars.Length)] = Alphabet[_random.Next(Alphabet.Length)];
        }

        return new string(chars);
    }

    [Test, CancelAfter(60_000)]
    public async Task huge_ids_and_numbers_are_echoed_byte_for_byte(CancellationToken cancellationToken)
    {
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken);
        string[] numbers =
        [
            new string('9', 40), "-" + new string('1', 300), "1" + new string('0', 5000), "1.0", "-0", "1e400", "-1.5E-400",
            "123456789012345678901234567890.123456789012345678901234567890e-7", "0.000000000000000000000000000001",
        ];
        for (int i = 0; i < numbers.Length; i++)
        {
            string number = numbers[i];
            string request = $$"""{"jsonrpc":"2.0","method":"echo","params":[{{number}}],"id":{{number}}}""";
            List<JsonElement> answers = await SendThenProbeAsync(socket, Encoding.UTF8.GetBytes(request), RawWebSocket.OpText, i, cancellationToken);
            answers.Should().ContainSingle();
            answers[0].GetProperty("id").GetRawText().Should().Be(number, "an id is echoed byte for byte, however large");
            answers[0].GetProperty("result").GetRawText().Should().Be(number, "echo returns the number unchanged, however large or precise");
        }

        string hugeString = new('s', 500_000);
        List<JsonElement> big = await SendThenProbeAsync(socket, Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","method":"echo","params":["{{hugeString}}"],"id":"{{hugeString}}"}"""), RawWebSocket.OpText, 99, cancellationToken);
        big[0].GetProperty("id").GetString().Should().HaveLength(hugeString.Length, "a half-megabyte string id is echoed whole");
        await AssertServerStillServesAsync(cancellationToken);
    }

    [Test, CancelAfter(60_000)]
    public async Task nesting_far_past_the_limit_is_a_parse_error_not_a_crash(CancellationToken cancellationToken)
    {
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken);
        // The deepest stays under --max-message-bytes (1 MiB) in both shapes: a bigger message is 1009, not -32700.
        int[] depths = [65, 100, 1_000, 10_000, 100_000, 150_000];
        for (int i = 0; i < depths.Length; i++)
        {
            int depth = depths[i];
            string open = _random.Next(2) == 0 ? new string('[', depth) : string.Concat(Enumerable.Repeat("{\"a\":", depth));
            string close = open[0] == '[' ? new string(']', depth) : new string('}', depth);
            foreach (string message in new[] { open + close, """{"jsonrpc":"2.0","method":"echo","params":[""" + open + close + "],\"id\":1}", open })
            {
                List<JsonElement> answers = await SendThenProbeAsync(socket, Encoding.UTF8.GetBytes(message), RawWebSocket.OpText, (i * 10) + answersSeen++, cancellationToken);
                answers.Should().ContainSingle($"depth {depth}");
                answers[0].GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32700, $"nesting {depth} deep is a parse error");
            }
        }

        await AssertServerStillServesAsync(cancellationToken);
    }

    private int answersSeen;

    [Test, CancelAfter(60_000)]
    public async Task invalid_utf8_closes_a_text_message_with_1007_and_is_a_parse_error_in_a_binary_one(CancellationToken cancellationToken)
    {
        byte[][] invalid =
        [
            [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82],
            Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes("\"],\"id\":1}")).ToArray(),
        ];
        foreach (byte[] bad in invalid)
        {
            await using (RawWebSocket text = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken))
            {
                await text.SendFrameAsync(RawWebSocket.OpText, bad, cancellationToken);
                (await text.ReadCloseCodeAsync(cancellationToken)).Should().Be(1007, $"invalid UTF-8 in a text message closes with 1007: {Convert.ToHexString(bad)}");
            }

            await using (RawWebSocket binary = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken))
            {
                List<JsonElement> answers = await SendThenProbeAsync(binary, bad, RawWebSocket.OpBinary, 1, cancellationToken);
                answers.Should().ContainSingle();
                answers[0].GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32700, "a binary message that is not UTF-8 is a parse error");
            }
        }

        // Split inside a multi-byte character across fragments: valid, and must be accepted.
        await using (RawWebSocket split = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken))
        {
            byte[] message = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"echo","params":["€😀"],"id":1}""");
            int cut = Array.IndexOf(message, (byte)0xE2) + 1;
            await split.SendFrameAsync(RawWebSocket.OpText, message.AsSpan(0, cut), cancellationToken, fin: false);
            await split.SendFrameAsync(RawWebSocket.OpContinuation, message.AsSpan(cut), cancellationToken);
            (await split.ReadMessageAsync(cancellationToken))!.Value.Text.Should().Be("""{"jsonrpc":"2.0","result":"€😀","id":1}""", "a character split across fragments is valid UTF-8");
        }

        // Random binary garbage.
        await using (RawWebSocket garbage = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken))
        {
            for (int i = 0; i < 100; i++)
            {
                byte[] bytes = new byte[_random.Next(1, 2000)];
                _random.NextBytes(bytes);
                List<JsonElement> answers = await SendThenProbeAsync(garbage, bytes, RawWebSocket.OpBinary, i, cancellationToken);
                answers.Should().ContainSingle($"binary garbage gets one answer (seed {_seed})");
            }
        }

        await AssertServerStillServesAsync(cancellationToken);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_message_split_into_fragments_at_every_byte_boundary_is_answered(CancellationToken cancellationToken)
    {
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken);
        byte[] message = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"echo","params":["Grüße 📷"],"id":7}""");
        const string Expected = """{"jsonrpc":"2.0","result":"Grüße 📷","id":7}""";
        for (int cut = 0; cut <= message.Length; cut++)
        {
            // Two data fragments (the first or the last possibly empty), a ping between them.
            await socket.SendFrameAsync(RawWebSocket.OpText, message.AsSpan(0, cut), cancellationToken, fin: false);
            await socket.SendFrameAsync(RawWebSocket.OpPing, "p"u8, cancellationToken);
            await socket.SendFrameAsync(RawWebSocket.OpContinuation, message.AsSpan(cut), cancellationToken);
            RawFrame? answer = await socket.ReadMessageAsync(cancellationToken);
            answer.Should().NotBeNull($"split at byte {cut}, close {socket.LastClose?.CloseCode}");
            answer!.Value.Text.Should().Be(Expected, $"a message split at byte {cut} is the same message");
        }

        // One byte per fragment.
        for (int i = 0; i < message.Length; i++)
        {
            await socket.SendFrameAsync(i == 0 ? RawWebSocket.OpText : RawWebSocket.OpContinuation, message.AsSpan(i, 1), cancellationToken, fin: i == message.Length - 1);
        }

        (await socket.ReadMessageAsync(cancellationToken))!.Value.Text.Should().Be(Expected, "a message sent one byte per frame is the same message");

        // And the whole conversation as one TCP write, then byte by byte at the TCP level.
        byte[] frame = RawWebSocket.EncodeFrame(RawWebSocket.OpText, message);
        for (int i = 0; i < frame.Length; i++)
        {
            await socket.SendRawAsync(frame.AsMemory(i, 1), cancellationToken);
        }

        (await socket.ReadMessageAsync(cancellationToken))!.Value.Text.Should().Be(Expected, "a frame that trickles in byte by byte is the same message");
        await AssertServerStillServesAsync(cancellationToken);
    }

    private static IEnumerable<TestCaseData> ProtocolViolations()
    {
        byte[] ping = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"ping","id":1}""");
        foreach (int opcode in new[] { 3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF })
        {
            yield return new TestCaseData(RawWebSocket.EncodeFrame(opcode, ping), 1002).SetArgDisplayNames($"reserved opcode {opcode:X}");
        }

        yield return new TestCaseData(RawWebSocket.EncodeFrame(RawWebSocket.OpText, ping, masked: false), 1002).SetArgDisplayNames("unmasked text frame");
        yield return new TestCaseData(RawWebSocket.EncodeFrame(RawWebSocket.OpClose, RawWebSocket.ClosePayload(1000, "an unmasked close frame"u8), masked: false), 1002).SetArgDisplayNames("unmasked close frame");
        yield return new TestCaseData(RawWebSocket.EncodeFrame(RawWebSocket.OpText, ping, rsv: 4), 1002).SetArgDisplayNames("RSV1 without an extension");
        yield return new TestCaseData(RawWebSocket.EncodeFrame(RawWebSocket.OpContinuation, ping), 1002).SetArgDisplayNames("continuation without a start");
        yield return new TestCaseData(RawWebSocket.EncodeFrame(RawWebSocket.OpPing, "x"u8, fin: false), 1002).SetArgDisplayNames("fragmented ping");
        yield return new TestCaseData(RawWebSocket.EncodeFrame(RawWebSocket.OpPing, new byte[126]), 1002).SetArgDisplayNames("ping of 126 bytes");
        yield return new TestCaseData(RawWebSocket.EncodeFrame(RawWebSocket.OpText, ping, fin: false).Concat(RawWebSocket.EncodeFrame(RawWebSocket.OpText, ping)).ToArray(), 1002).SetArgDisplayNames("new message inside a fragmented one");
        yield return new TestCaseData(RawWebSocket.EncodeFrame(RawWebSocket.OpClose, [0x03]), 1002).SetArgDisplayNames("close with a 1-byte payload");
        foreach (int code in new[] { 0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535 })
        {
            yield return new TestCaseData(RawWebSocket.EncodeFrame(RawWebSocket.OpClose, RawWebSocket.ClosePayload(code)), 1002).SetArgDisplayNames($"close code {code}");
        }

        yield return new TestCaseData(RawWebSocket.EncodeFrame(RawWebSocket.OpClose, RawWebSocket.ClosePayload(1000, [0xC3, 0x28])), 1002).SetArgDisplayNames("close reason not UTF-8 (1002 from ManagedWebSocket; RFC 6455 §8.1 only says fail)");
        foreach (int code in new[] { 1000, 1001, 3000, 4999 })
        {
            yield return new TestCaseData(RawWebSocket.EncodeFrame(RawWebSocket.OpClose, RawWebSocket.ClosePayload(code, "bye"u8)), code).SetArgDisplayNames($"valid close {code} is echoed");
        }
    }

    [TestCaseSource(nameof(ProtocolViolations)), CancelAfter(30_000)]
    public async Task a_protocol_violation_closes_that_connection_with_the_rfc_code(byte[] frames, int expectedClose, CancellationToken cancellationToken)
    {
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken);
        await socket.SendRawAsync(frames, cancellationToken);
        (await socket.ReadCloseCodeAsync(cancellationToken)).Should().Be(expectedClose, "RFC 6455 §7.4.1 and §5: the server fails the connection with this code");
        await AssertServerStillServesAsync(cancellationToken);
    }

    [Test, CancelAfter(60_000)]
    public async Task raw_tcp_garbage_before_or_after_the_handshake_ends_only_that_connection(CancellationToken cancellationToken)
    {
        for (int i = 0; i < 40; i++)
        {
            byte[] garbage = new byte[_random.Next(1, 4000)];
            _random.NextBytes(garbage);
            if (i % 2 == 0)
            {
                await using RawWebSocket tcp = await RawWebSocket.ConnectTcpAsync(_server.Port, cancellationToken);
                await tcp.SendRawAsync(garbage, cancellationToken);
                await tcp.SendRawAsync("\r\n\r\n"u8.ToArray(), cancellationToken);
                tcp.Socket.Shutdown(SocketShutdown.Send);
                int status = await tcp.ReadHandshakeAsync(cancellationToken);
                status.Should().NotBe(101, $"garbage is never upgraded (seed {_seed})");
                if (status != 0)
                {
                    status.Should().BeInRange(400, 499, $"garbage gets a client error or nothing (seed {_seed}): {tcp.HandshakeResponse}");
                }
            }
            else
            {
                await using RawWebSocket upgraded = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken);
                upgraded.HandshakeStatus.Should().Be(101);
                await upgraded.SendRawAsync(garbage, cancellationToken);
                upgraded.Socket.Shutdown(SocketShutdown.Send); // a partial frame then EOF must end it too
                int code = await upgraded.ReadCloseCodeAsync(cancellationToken);
                TestContext.Out.WriteLine($"garbage after the handshake ({garbage.Length} bytes, first 0x{garbage[0]:X2}): close {code}");
                code.Should().BeOneOf([1002, 1006, 1007, 1009], $"garbage frames fail the connection (seed {_seed})");
            }
        }

        await AssertServerStillServesAsync(cancellationToken);
    }

    private static IEnumerable<TestCaseData> MalformedUpgrades()
    {
        const string Key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        const string Upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
        yield return new TestCaseData("GET /ws HTTP/1.1\r\nHost: {HOST}\r\n" + Upgrade + "Sec-WebSocket-Version: 13\r\n\r\n").SetArgDisplayNames("missing key");
        yield return new TestCaseData("GET /ws HTTP/1.1\r\nHost: {HOST}\r\n" + Upgrade + Key + "Sec-WebSocket-Version: 8\r\n\r\n").SetArgDisplayNames("version 8");
        yield return new TestCaseData("GET /ws HTTP/1.1\r\nHost: {HOST}\r\n" + Upgrade + Key + "\r\n").SetArgDisplayNames("missing version");
        yield return new TestCaseData("GET /ws HTTP/1.1\r\nHost: {HOST}\r\n" + Upgrade + "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n").SetArgDisplayNames("key not 16 bytes");
        yield return new TestCaseData("GET /ws HTTP/1.0\r\nHost: {HOST}\r\n" + Upgrade + Key + "Sec-WebSocket-Version: 13\r\n\r\n").SetArgDisplayNames("HTTP/1.0");
        yield return new TestCaseData("GET /ws HTTP/1.1\r\n" + Upgrade + Key + "Sec-WebSocket-Version: 13\r\n\r\n").SetArgDisplayNames("no Host");
        yield return new TestCaseData("GET /ws HTTP/9.9\r\nHost: {HOST}\r\n" + Upgrade + Key + "Sec-WebSocket-Version: 13\r\n\r\n").SetArgDisplayNames("HTTP/9.9");
        yield return new TestCaseData("GET /ws HTTP/1.1\r\nHost: {HOST}\r\nX-Big: " + new string('a', 100_000) + "\r\n" + Upgrade + Key + "Sec-WebSocket-Version: 13\r\n\r\n").SetArgDisplayNames("100 KB header");
        yield return new TestCaseData("GET /ws HTTP/1.1\r\nHost: {HOST}\r\n" + string.Concat(Enumerable.Range(0, 10_000).Select(i => $"X-H{i}: v\r\n")) + Upgrade + Key + "Sec-WebSocket-Version: 13\r\n\r\n").SetArgDisplayNames("10,000 headers");
        yield return new TestCaseData("GET /ws?" + new string('q', 200_000) + " HTTP/1.1\r\nHost: {HOST}\r\n" + Upgrade + Key + "Sec-WebSocket-Version: 13\r\n\r\n").SetArgDisplayNames("200 KB request line");
        yield return new TestCaseData("GET /ws HTTP/1.1\r\nHost: {HOST}\r\n" + Upgrade + Key + "Sec-WebSocket-Version: 13\r\nContent-Length: -5\r\n\r\n").SetArgDisplayNames("negative Content-Length");
        yield return new TestCaseData("GET /ws HTTP/1.1\r\nHost: {HOST}\nUpgrade websocket\r\n\r\n").SetArgDisplayNames("header without colon");
    }

    [TestCaseSource(nameof(MalformedUpgrades)), CancelAfter(30_000)]
    public async Task a_malformed_upgrade_request_is_refused_with_a_client_error(string request, CancellationToken cancellationToken)
    {
        await using RawWebSocket tcp = await RawWebSocket.ConnectTcpAsync(_server.Port, cancellationToken);
        try
        {
            await tcp.SendRawAsync(Encoding.ASCII.GetBytes(request.Replace("{HOST}", $"127.0.0.1:{_server.Port}", StringComparison.Ordinal)), cancellationToken);
        }
        catch (IOException)
        {
            // The server may refuse and reset before the whole oversized request is written.
        }

        int status = await tcp.ReadHandshakeAsync(cancellationToken);
        TestContext.Out.WriteLine($"answer: {tcp.HandshakeResponse.Split("\r\n")[0]}");
        status.Should().NotBe(101, "a malformed upgrade is never accepted");
        if (status != 0 && status != 505)
        {
            status.Should().BeInRange(400, 499, "a malformed request is the client's error, answered 4xx (505 for an unknown HTTP version, or the connection is dropped)");
        }

        await AssertServerStillServesAsync(cancellationToken);
    }
}
