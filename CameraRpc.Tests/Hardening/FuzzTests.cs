using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Hardening;

/// <summary>
/// Bad input thrown at the real executable over raw sockets, seeded and reproducible: the seed is
/// printed, and <c>HARDENING_FUZZ_SEED=N</c> replays a run. Throughout, a well-behaved client on its own
/// connection keeps calling and every one of its answers is checked (<see cref="SteadyClient"/>); the
/// tests that abuse in a loop wait for one of its answers at points inside the loop, so it is shown to be
/// served during the abuse, not only after it. Where the right answer to a fuzzed message can be worked
/// out (<see cref="ContractOracle"/>, <see cref="ExpectedCloseAfter"/>), it is asserted exactly.
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
        _midAbuseChecks = 0;
        _answeredMidAbuse = 0;
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

    /// <summary>
    /// Between two abusive messages: waits for the steady client's next answer, so that it is shown to be
    /// served while the abuse goes on, not only once it is over. Bounded by the test's timeout.
    /// </summary>
    private async Task SteadyAnsweredMidAbuseAsync(CancellationToken cancellationToken)
    {
        await _steady.WaitForProgressAsync(1, cancellationToken);
        _midAbuseChecks++;
        _answeredMidAbuse = _steady.Answered;
    }

    private int _midAbuseChecks;
    private int _answeredMidAbuse;

    /// <summary>After the abuse: the steady client made progress and every answer was right; the server still serves a new client.</summary>
    private async Task AssertServerStillServesAsync(CancellationToken cancellationToken)
    {
        await _steady.WaitForProgressAsync(5, cancellationToken);
        int answered = await _steady.StopAsync();
        TestContext.Out.WriteLine(_midAbuseChecks > 0
            ? $"steady client: {answered} answers, all correct; {_answeredMidAbuse} of them before the abuse ended, answered at each of {_midAbuseChecks} points in it"
            : $"steady client: {answered} answers, all correct");
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
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id", out JsonElement id) && id.GetRawText() == $"\"probe-{probe}\"")
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
        """{"jsonrpc":"2.0","method":"echo","params":["text \u00e9"],"id":"id-7"}""",
        """{"jsonrpc":"2.0","method":"ping","id":"p"}""",
        """{"jsonrpc":"2.0","method":"echo","params":{"message":"hi"}}""",
    ];

    // JSON escapes, spliced whole: a lone surrogate ("\ud800") is valid JSON but not text, and
    // one-character mutations alone almost never spell one.
    private static readonly string[] s_escapes = ["\\ud800", "\\uDC00", "\\ud83d\\ude00", "\\u0000", "\\\"", "\\\\", "\\u006d", "\\n"];

    [Test, CancelAfter(60_000)]
    public async Task random_truncated_mutated_and_escaped_json_gets_exactly_the_contract_answer_and_the_connection_lives_on(CancellationToken cancellationToken)
    {
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken);
        socket.HandshakeStatus.Should().Be(101);
        const int Messages = 600;
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        int answersExpected = 0, answersReceived = 0, loneSurrogates = 0;
        for (int i = 0; i < Messages; i++)
        {
            string valid = s_validRequests[_random.Next(s_validRequests.Length)];
            (string kind, string message) = i % 50 == 0 ? ("unchanged", s_validRequests[i / 50 % s_validRequests.Length]) : _random.Next(5) switch
            {
                0 => ("random", RandomAscii(_random.Next(1, 300))),
                1 => ("truncated", valid[.._random.Next(1, valid.Length)]),
                2 => ("mutated", Mutate(valid)),
                3 => ("spliced", valid[.._random.Next(valid.Length)] + RandomAscii(_random.Next(1, 20)) + valid[_random.Next(valid.Length)..]),
                _ => ("escaped", SpliceEscapes(valid)),
            };

            byte[] bytes = Encoding.UTF8.GetBytes(message);
            ExpectedFrame? expected = ContractOracle.For(bytes);
            int opcode = _random.Next(2) == 0 ? RawWebSocket.OpText : RawWebSocket.OpBinary;
            List<JsonElement> frames = await SendThenProbeAsync(socket, bytes, opcode, i, cancellationToken);
            string context = $"{kind} message {i}, seed {_seed}: {Truncate(message)}";

            if (expected is null)
            {
                frames.Should().BeEmpty($"notifications only: nothing is answered ({context})");
            }
            else
            {
                frames.Should().ContainSingle($"one message, one answer frame ({context})");
                JsonElement frame = frames[0];
                frame.ValueKind.Should().Be(expected.IsBatch ? JsonValueKind.Array : JsonValueKind.Object, $"a batch is answered with an array, anything else with one object ({context})");
                JsonElement[] answers = expected.IsBatch ? frame.EnumerateArray().ToArray() : [frame];
                answers.Should().HaveCount(expected.Answers.Count, $"one answer per call that is not a notification ({context})");
                for (int a = 0; a < answers.Length; a++)
                {
                    expected.Answers[a].Check(answers[a], context);
                    outcomes[expected.Answers[a].Why] = outcomes.GetValueOrDefault(expected.Answers[a].Why) + 1;
                    if (expected.Answers[a].Text is not null && (message.Contains("\\ud800", StringComparison.Ordinal) || message.Contains("\\uDC00", StringComparison.Ordinal)))
                    {
                        loneSurrogates++;
                    }
                }

                if (kind == "truncated")
                {
                    frame.GetRawText().Should().Be(ContractOracle.ParseError, $"a truncated message is not JSON ({context})");
                }
            }

            answersExpected += expected?.Answers.Count ?? 0;
            answersReceived += frames.Sum(f => f.ValueKind == JsonValueKind.Array ? f.GetArrayLength() : 1);
            if (i % 25 == 24)
            {
                await SteadyAnsweredMidAbuseAsync(cancellationToken);
            }
        }

        TestContext.Out.WriteLine($"{Messages} fuzzed messages, {answersReceived} answers ({loneSurrogates} checked exactly for a message with an escaped lone surrogate): "
            + string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Value} {o.Key}")));
        answersReceived.Should().Be(answersExpected, "the server answered every call that is not a notification, exactly once");
        outcomes.Keys.Should().Contain(["echo: its message, byte for byte", "not JSON: -32700", "not a valid request: -32600, always answered"], "the run covers calls that work (every 50th message is sent unchanged), not only broken ones");
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

    /// <summary>One to three whole escapes, each inside a string of the message (mostly) or anywhere.</summary>
    private string SpliceEscapes(string valid)
    {
        string message = valid;
        for (int n = _random.Next(1, 4); n > 0; n--)
        {
            var insideStrings = new List<int>();
            bool inString = false;
            for (int i = 0; i < message.Length; i++)
            {
                if (message[i] == '"' && (i == 0 || message[i - 1] != '\\'))
                {
                    inString = !inString;
                    if (!inString)
                    {
                        insideStrings.Add(i); // just before the closing quote
                    }
                }
                else if (inString && message[i - 1] != '\\')
                {
                    insideStrings.Add(i);
                }
            }

            int at = _random.Next(4) != 0 && insideStrings.Count > 0 ? insideStrings[_random.Next(insideStrings.Count)] : _random.Next(message.Length + 1);
            message = message.Insert(at, s_escapes[_random.Next(s_escapes.Length)]);
        }

        return message;
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
            await SteadyAnsweredMidAbuseAsync(cancellationToken);
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
                List<JsonElement> answers = await SendThenProbeAsync(socket, Encoding.UTF8.GetBytes(message), RawWebSocket.OpText, (i * 10) + _answersSeen++, cancellationToken);
                answers.Should().ContainSingle($"depth {depth}");
                answers[0].GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32700, $"nesting {depth} deep is a parse error");
            }

            await SteadyAnsweredMidAbuseAsync(cancellationToken);
        }

        await AssertServerStillServesAsync(cancellationToken);
    }

    private int _answersSeen;

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

            await SteadyAnsweredMidAbuseAsync(cancellationToken);
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
                answers[0].GetRawText().Should().Be(ContractOracle.For(bytes)?.Answers.Single().Text, $"binary garbage is answered as the contract says (seed {_seed})");
                if (i % 20 == 19)
                {
                    await SteadyAnsweredMidAbuseAsync(cancellationToken);
                }
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
            if (cut % 10 == 9)
            {
                await SteadyAnsweredMidAbuseAsync(cancellationToken);
            }
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
    public async Task raw_tcp_garbage_before_the_handshake_is_never_upgraded_and_ends_only_that_connection(CancellationToken cancellationToken)
    {
        for (int i = 0; i < 20; i++)
        {
            byte[] garbage = new byte[_random.Next(1, 4000)];
            _random.NextBytes(garbage);
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

            await SteadyAnsweredMidAbuseAsync(cancellationToken);
        }

        await AssertServerStillServesAsync(cancellationToken);
    }

    [Test, CancelAfter(60_000)]
    public async Task raw_tcp_garbage_after_the_handshake_gets_exactly_the_close_rfc_6455_prescribes(CancellationToken cancellationToken)
    {
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < 3 * s_garbageKinds.Length; i++)
        {
            int kind = i % s_garbageKinds.Length;
            byte[] garbage = GarbageOfKind(kind);
            (int expected, string why) = ExpectedCloseAfter(garbage);
            await using RawWebSocket upgraded = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken);
            upgraded.HandshakeStatus.Should().Be(101);
            await upgraded.SendRawAsync(garbage, cancellationToken);
            upgraded.Socket.Shutdown(SocketShutdown.Send); // then EOF: a frame cut short must end the connection too
            int code = await upgraded.ReadCloseCodeAsync(cancellationToken);
            code.Should().Be(expected, $"{s_garbageKinds[kind]}: {why} (seed {_seed}, {garbage.Length} bytes: {Convert.ToHexString(garbage.AsSpan(0, Math.Min(32, garbage.Length)))}…)");
            string outcome = $"{s_garbageKinds[kind]}: {code} ({why})";
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            await SteadyAnsweredMidAbuseAsync(cancellationToken);
        }

        TestContext.Out.WriteLine(string.Join("\n", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Value,3} x {o.Key}")));
        await AssertServerStillServesAsync(cancellationToken);
    }

    /// <summary>
    /// What the server does with <paramref name="garbage"/> sent after the handshake and followed by the
    /// client's FIN: the close code the client observes (1006: the connection ended without a close
    /// frame). A model of RFC 6455 as the server's WebSocket (.NET's ManagedWebSocket) applies it, frame
    /// by frame: header checks (1002), text payloads checked as UTF-8 while they arrive (1007), pings
    /// answered, whole data messages answered, a valid close frame echoed; input that ends inside a frame
    /// or between frames leaves the server nothing to do but drop the connection.
    /// </summary>
    internal static (int Code, string Why) ExpectedCloseAfter(ReadOnlySpan<byte> garbage)
    {
        int at = 0;
        bool inMessage = false;
        bool text = false;
        var utf8 = new Utf8Check();
        long received = 0; // bytes of the current message so far
        long bufferSize = 4096;
        while (true)
        {
            if (garbage.Length - at < 2)
            {
                return (1006, "the input ends between frames or inside a frame header");
            }

            byte b0 = garbage[at], b1 = garbage[at + 1];
            int lengthCode = b1 & 0x7F;
            int extended = lengthCode == 126 ? 2 : lengthCode == 127 ? 8 : 0;
            if (garbage.Length - at < 2 + extended + 4)
            {
                // The server waits for a whole header, mask included (masked or not) before judging it.
                return (1006, "the input ends inside a frame header");
            }

            bool fin = (b0 & 0x80) != 0;
            int opcode = b0 & 0x0F;
            bool masked = (b1 & 0x80) != 0;
            long length = extended == 0 ? lengthCode
                : extended == 2 ? BinaryPrimitives.ReadUInt16BigEndian(garbage[(at + 2)..])
                : BinaryPrimitives.ReadInt64BigEndian(garbage[(at + 2)..]);
            if ((b0 & 0x70) != 0)
            {
                return (1002, "reserved bits set without an extension");
            }

            if (!masked)
            {
                return (1002, "a client frame that is not masked");
            }

            bool control = opcode >= 8;
            switch (opcode)
            {
                case 0 when !inMessage:
                    return (1002, "a continuation frame with no message to continue");
                case 1 or 2 when inMessage:
                    return (1002, "a new message inside a fragmented one");
                case 8 or 9 or 10 when length > 125 || !fin:
                    return (1002, "a control frame that is fragmented or longer than 125 bytes");
                case 0 or 1 or 2 or 8 or 9 or 10:
                    break;
                default:
                    return (1002, $"reserved opcode 0x{opcode:X}");
            }

            if (length < 0)
            {
                return (1002, "a 64-bit payload length with its top bit set");
            }

            int headerLength = 2 + extended + 4;
            ReadOnlySpan<byte> mask = garbage.Slice(at + 2 + extended, 4);
            long available = garbage.Length - at - headerLength;
            int present = (int)Math.Min(length, available);
            byte[] payload = garbage.Slice(at + headerLength, present).ToArray();
            for (int i = 0; i < payload.Length; i++)
            {
                payload[i] ^= mask[i & 3];
            }

            if (control)
            {
                if (present < length)
                {
                    return (1006, "the input ends inside a control frame");
                }

                if (opcode == 8)
                {
                    if (payload.Length == 1)
                    {
                        return (1002, "a close frame with a 1-byte payload");
                    }

                    if (payload.Length == 0)
                    {
                        return (1000, "an empty close frame is answered with 1000");
                    }

                    int code = BinaryPrimitives.ReadUInt16BigEndian(payload);
                    if (!IsValidCloseCode(code))
                    {
                        return (1002, $"close code {code} is not one a peer may send");
                    }

                    if (!Utf8.IsValid(payload.AsSpan(2)))
                    {
                        return (1002, "a close reason that is not UTF-8");
                    }

                    return (code, "a valid close frame is echoed");
                }

                at += headerLength + (int)length; // ping (answered with a pong) or pong: read on
                continue;
            }

            if (opcode != 0)
            {
                text = opcode == 1;
                inMessage = true;
                utf8 = new Utf8Check();
                received = 0;
                bufferSize = 4096;
            }

            // The server reads a message into a 4 KiB buffer that doubles when full; its WebSocket reads
            // until that buffer or the frame is full, and only then checks the text in it. Input that ends
            // first ends the connection, whatever the bytes that did arrive.
            long left = length;
            int read = 0;
            do
            {
                if (received == bufferSize)
                {
                    bufferSize *= 2;
                }

                int chunk = (int)Math.Min(bufferSize - received, left);
                if (present - read < chunk)
                {
                    return (1006, "the input ends inside a data frame");
                }

                if (text && !utf8.Accept(payload.AsSpan(read, chunk), endOfMessage: fin && left == chunk))
                {
                    return (1007, "a text message that is not UTF-8");
                }

                read += chunk;
                received += chunk;
                left -= chunk;
            }
            while (left > 0);

            inMessage = !fin; // a whole message is answered (-32700 or a result) and the next frame read
            at += headerLength + (int)length;
        }
    }

    private static bool IsValidCloseCode(int code) =>
        code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);

    /// <summary>UTF-8 checked as it arrives, as the server's WebSocket does: a sequence cut at the end of what has arrived is not (yet) an error.</summary>
    private sealed class Utf8Check
    {
        private int _expected;
        private int _bits;
        private int _minimum;
        private bool _inSequence;

        public bool Accept(ReadOnlySpan<byte> bytes, bool endOfMessage)
        {
            for (int i = 0; i < bytes.Length;)
            {
                if (!_inSequence)
                {
                    _inSequence = true;
                    byte b = bytes[i++];
                    (_expected, _bits, _minimum) = b switch
                    {
                        < 0x80 => (0, b, 0),
                        < 0xC0 => (-1, 0, 0),
                        < 0xE0 => (1, b & 0x1F, 0x80),
                        < 0xF0 => (2, b & 0x0F, 0x800),
                        < 0xF8 => (3, b & 0x07, 0x10000),
                        _ => (-1, 0, 0),
                    };
                    if (_expected < 0)
                    {
                        return false;
                    }
                }

                while (_expected > 0 && i < bytes.Length)
                {
                    byte b = bytes[i];
                    if ((b & 0xC0) != 0x80)
                    {
                        return false;
                    }

                    i++;
                    _expected--;
                    _bits = (_bits << 6) | (b & 0x3F);
                    if ((_expected == 1 && _bits >= 0x360 && _bits <= 0x37F) || (_expected == 2 && _bits >= 0x110))
                    {
                        return false; // a surrogate, or past U+10FFFF
                    }
                }

                if (_expected == 0)
                {
                    _inSequence = false;
                    if (_bits < _minimum)
                    {
                        return false; // overlong
                    }
                }
            }

            return !(endOfMessage && _inSequence);
        }
    }

    private static readonly string[] s_garbageKinds =
    [
        "random bytes", "reserved bits", "reserved opcode", "unmasked frame", "continuation first", "bad control frame",
        "bad close payload", "text not UTF-8", "whole binary message then random bytes", "frame cut short", "ping then random bytes",
        "valid close frame", "64-bit payload length", "long text frame cut short", "fragmented message",
    ];

    /// <summary>Garbage of one kind: a first frame shaped to it (random otherwise), then random bytes.</summary>
    private byte[] GarbageOfKind(int kind)
    {
        byte[] Bytes(int min, int max)
        {
            byte[] bytes = new byte[_random.Next(min, max)];
            _random.NextBytes(bytes);
            return bytes;
        }

        byte[] CutShort(byte[] frame, int min) => frame[.._random.Next(min, frame.Length)];

        int dataOpcode = _random.Next(2) == 0 ? RawWebSocket.OpText : RawWebSocket.OpBinary;
        byte[] first = kind switch
        {
            0 => [],
            1 => RawWebSocket.EncodeFrame(dataOpcode, Bytes(0, 200), rsv: _random.Next(1, 8)),
            2 => RawWebSocket.EncodeFrame(new[] { 3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF }[_random.Next(10)], Bytes(0, 100)),
            3 => RawWebSocket.EncodeFrame(dataOpcode, Bytes(0, 200), masked: false),
            4 => RawWebSocket.EncodeFrame(RawWebSocket.OpContinuation, Bytes(0, 200)),
            5 => _random.Next(2) == 0
                ? RawWebSocket.EncodeFrame(RawWebSocket.OpPing + _random.Next(-1, 2), Bytes(0, 100), fin: false)
                : RawWebSocket.EncodeFrame(RawWebSocket.OpPing + _random.Next(-1, 2), Bytes(126, 300)),
            6 => RawWebSocket.EncodeFrame(RawWebSocket.OpClose, _random.Next(3) switch
            {
                0 => Bytes(1, 2),
                1 => RawWebSocket.ClosePayload(new[] { 0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535 }[_random.Next(9)]),
                _ => RawWebSocket.ClosePayload(1000, [0xC3, 0x28]),
            }),
            7 => RawWebSocket.EncodeFrame(RawWebSocket.OpText, Bytes(8, 2000)),
            8 => RawWebSocket.EncodeFrame(RawWebSocket.OpBinary, Bytes(0, 2000)),
            9 => CutShort(RawWebSocket.EncodeFrame(dataOpcode, Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"ping","id":1}""")), 7),
            10 => RawWebSocket.EncodeFrame(RawWebSocket.OpPing, Bytes(0, 126)),
            11 => RawWebSocket.EncodeFrame(RawWebSocket.OpClose, _random.Next(4) == 0
                ? []
                : RawWebSocket.ClosePayload(new[] { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999 }[_random.Next(14)], "bye"u8)),
            12 => [(byte)(0x80 | dataOpcode), 0x80 | 127, .. Bytes(8, 9), .. Bytes(4, 5)],
            13 => CutShort(RawWebSocket.EncodeFrame(RawWebSocket.OpText, Bytes(4097, 12_000)), 4000),
            _ => [
                .. RawWebSocket.EncodeFrame(dataOpcode, "{\"jsonrpc\":\"2.0\",\"method\":\"€"u8[.._random.Next(1, 28)], fin: false),
                .. RawWebSocket.EncodeFrame(_random.Next(4) == 0 ? dataOpcode : RawWebSocket.OpContinuation, Bytes(0, 6000), fin: _random.Next(2) == 0),
            ],
        };
        return kind is 9 or 13 ? first : [.. first, .. Bytes(kind == 0 ? 1 : 0, kind == 0 ? 4000 : 200)];
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
