using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace CameraRpc.Tests.EndToEnd.Support;

/// <summary>JSON-RPC messages the end-to-end tests send, and readers for what comes back.</summary>
public static partial class RpcMessages
{
    /// <summary>A <c>ping</c> call with a numeric id.</summary>
    public static string Ping(int id) => string.Create(CultureInfo.InvariantCulture, $$"""{"jsonrpc":"2.0","method":"ping","id":{{id}}}""");

    /// <summary>The answer to <see cref="Ping(int)"/>.</summary>
    public static string Pong(int id) => string.Create(CultureInfo.InvariantCulture, $$"""{"jsonrpc":"2.0","result":"pong","id":{{id}}}""");

    /// <summary>A <c>ping</c> call with a string id.</summary>
    public static string Ping(string id) => $$"""{"jsonrpc":"2.0","method":"ping","id":"{{id}}"}""";

    /// <summary>The answer to <see cref="Ping(string)"/>.</summary>
    public static string Pong(string id) => $$"""{"jsonrpc":"2.0","result":"pong","id":"{{id}}"}""";

    /// <summary>A call of <paramref name="method"/> with raw JSON <paramref name="params"/>.</summary>
    public static string Call(string method, string @params, int id) =>
        string.Create(CultureInfo.InvariantCulture, $$"""{"jsonrpc":"2.0","method":"{{method}}","params":{{@params}},"id":{{id}}}""");

    /// <summary>A successful answer with raw JSON <paramref name="result"/>.</summary>
    public static string Result(string result, int id) =>
        string.Create(CultureInfo.InvariantCulture, $$"""{"jsonrpc":"2.0","result":{{result}},"id":{{id}}}""");

    /// <summary>An <c>echo</c> call (id 1) of a string of x, exactly <paramref name="length"/> bytes long in all.</summary>
    public static string EchoOfLength(int length)
    {
        const string Empty = """{"jsonrpc":"2.0","method":"echo","params":[""],"id":1}""";
        string padding = new('x', length - Empty.Length);
        string message = $$"""{"jsonrpc":"2.0","method":"echo","params":["{{padding}}"],"id":1}""";
        Encoding.UTF8.GetByteCount(message).Should().Be(length, "the helper builds messages of an exact size");
        return message;
    }

    /// <summary>The answer to <see cref="EchoOfLength"/>.</summary>
    public static string EchoAnswer(string echoCall) =>
        Result("\"" + EchoParam().Match(echoCall).Groups["text"].Value + "\"", 1);

    /// <summary>The value of <c>"id"</c> in an answer (as raw text), or null when it has none.</summary>
    public static string? IdOf(string answer) => AnswerId().Match(answer) is { Success: true } match ? match.Groups["id"].Value : null;

    [GeneratedRegex("\"params\":\\[\"(?<text>x*)\"\\]")]
    private static partial Regex EchoParam();

    [GeneratedRegex("\"id\":(?<id>[^,}]+)}$")]
    private static partial Regex AnswerId();
}
