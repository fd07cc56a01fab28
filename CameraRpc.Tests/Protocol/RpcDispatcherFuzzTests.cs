using System.Text;
using System.Text.Json;
using CameraRpc.Protocol;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Protocol;

/// <summary>
/// Thousands of mutated, truncated and random messages (seeded, so a failure reproduces): each gives
/// either nothing or a valid JSON-RPC answer, and never an exception out of the engine.
/// </summary>
[Parallelizable(ParallelScope.All)]
public sealed class RpcDispatcherFuzzTests
{
    private static readonly string[] s_seeds =
    [
        """{"jsonrpc":"2.0","method":"ping","id":1}""",
        """{"jsonrpc":"2.0","method":"echo","params":{"message":{"a":[1,2,{"b":"c"}],"d":-1.5e3}},"id":"x"}""",
        """[{"jsonrpc":"2.0","method":"echo","params":["\u00e9\n"],"id":null},{"jsonrpc":"2.0","method":"ping"},1,[]]""",
        """{"jsonrpc":"2.0","method":"rpc.discover","id":99999999999999999999999}""",
        """{"jsonrpc":"2.0","method":"echo","params":[true,false,null],"id":0}""",
    ];

    private static readonly byte[] s_interesting = Encoding.UTF8.GetBytes("{}[]\",:\\0123456789.eE+-truefalsenull \t\n\u00e9") .Concat(new byte[] { 0x00, 0x7F, 0x80, 0xC0, 0xFF, 0xED, 0xA0 }).ToArray();

    // JSON escapes, spliced whole: a lone surrogate ("\ud800") is valid JSON but not text, and
    // one-byte mutations alone almost never spell it.
    private static readonly byte[][] s_escapes =
        ["\\ud800"u8.ToArray(), "\\uDC00"u8.ToArray(), "\\ud83d\\ude00"u8.ToArray(), "\\u0000"u8.ToArray(), "\\\""u8.ToArray(), "\\\\"u8.ToArray(), "\\u006d"u8.ToArray()];

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public async Task mutated_messages_give_nothing_or_a_valid_answer(int seed)
    {
        var random = new Random(seed);
        var rpc = new InProcessRpc();
        for (int i = 0; i < 3000; i++)
        {
            byte[] message = Mutate(random, Encoding.UTF8.GetBytes(s_seeds[random.Next(s_seeds.Length)]));
            string? answer;
            try
            {
                answer = await rpc.CallAsync(message);
            }
            catch (Exception exception)
            {
                throw new AssertionException($"seed {seed}, case {i}: the engine threw {exception} for {Convert.ToBase64String(message)}");
            }

            if (answer is not null)
            {
                AssertValidAnswer(answer, $"seed {seed}, case {i}: {Encoding.UTF8.GetString(message)}");
            }
        }
    }

    [Test]
    public async Task random_bytes_are_answered_with_a_parse_error_or_a_valid_answer()
    {
        var random = new Random(42);
        var rpc = new InProcessRpc();
        for (int i = 0; i < 2000; i++)
        {
            byte[] message = new byte[random.Next(0, 64)];
            random.NextBytes(message);
            string? answer = await rpc.CallAsync(message);
            answer.Should().NotBeNull("a message that is not a request object is always answered");
            AssertValidAnswer(answer!, Convert.ToBase64String(message));
        }
    }

    private static byte[] Mutate(Random random, byte[] message)
    {
        var bytes = new List<byte>(message);
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 5: bytes.InsertRange(at, s_escapes[random.Next(s_escapes.Length)]); break;
                case 0: bytes.RemoveRange(at, bytes.Count - at); break; // truncate
                case 1: bytes.RemoveAt(at); break;
                case 2: bytes.Insert(at, s_interesting[random.Next(s_interesting.Length)]); break;
                case 3: bytes[at] = s_interesting[random.Next(s_interesting.Length)]; break;
                default: bytes.InsertRange(at, bytes.GetRange(at, Math.Min(8, bytes.Count - at))); break; // duplicate a run
            }
        }

        return bytes.ToArray();
    }

    private static void AssertValidAnswer(string answer, string because)
    {
        using JsonDocument document = JsonDocument.Parse(answer);
        JsonElement root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Array)
        {
            root.GetArrayLength().Should().BeGreaterThan(0, because);
            foreach (JsonElement item in root.EnumerateArray())
            {
                AssertValidResponse(item, because);
            }
        }
        else
        {
            AssertValidResponse(root, because);
        }
    }

    private static void AssertValidResponse(JsonElement response, string because)
    {
        response.ValueKind.Should().Be(JsonValueKind.Object, because);
        response.GetProperty("jsonrpc").GetString().Should().Be("2.0", because);
        response.TryGetProperty("id", out JsonElement id).Should().BeTrue(because);
        id.ValueKind.Should().BeOneOf([JsonValueKind.String, JsonValueKind.Number, JsonValueKind.Null], because);
        bool hasResult = response.TryGetProperty("result", out _);
        bool hasError = response.TryGetProperty("error", out JsonElement error);
        (hasResult ^ hasError).Should().BeTrue($"exactly one of result and error: {because}");
        if (hasError)
        {
            error.GetProperty("code").GetInt32().Should().BeOneOf([RpcErrorCode.ParseError, RpcErrorCode.InvalidRequest, RpcErrorCode.MethodNotFound, RpcErrorCode.InvalidParams], because);
            error.GetProperty("message").GetString().Should().NotBeNullOrEmpty(because);
        }
    }
}
