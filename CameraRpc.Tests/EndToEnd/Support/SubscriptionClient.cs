using System.Text.Json;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd.Support;

/// <summary>One message a subscription client read, parsed: an answer (id), an event (subscription + seq) or an end.</summary>
public sealed record WireMessage(string Text, string? Id, string? Method, string? Subscription, long Seq, string? End, JsonElement? Result)
{
    public bool IsEvent => Subscription is not null && End is null;

    public static WireMessage Parse(string text)
    {
        using JsonDocument document = JsonDocument.Parse(text);
        JsonElement root = document.RootElement;
        string? id = root.TryGetProperty("id", out JsonElement idElement) ? idElement.GetRawText() : null;
        string? method = root.TryGetProperty("method", out JsonElement methodElement) ? methodElement.GetString() : null;
        if (method is not null && root.TryGetProperty("params", out JsonElement p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("subscription", out JsonElement s))
        {
            return new WireMessage(
                text, id, method, s.GetString(), p.GetProperty("seq").GetInt64(),
                p.TryGetProperty("end", out JsonElement end) ? end.GetString() : null,
                p.TryGetProperty("result", out JsonElement result) ? result.Clone() : null);
        }

        return new WireMessage(text, id, method, null, 0, null, root.TryGetProperty("result", out JsonElement r) ? r.Clone() : null);
    }
}

/// <summary>Subscription helpers over <see cref="RpcTestClient"/>.</summary>
public static class SubscriptionClient
{
    public static string Subscribe(string topic, int id, string? @params = null) =>
        $$"""{"jsonrpc":"2.0","method":"rpc.subscribe","params":{"topic":"{{topic}}"{{(@params is null ? "" : ",\"params\":" + @params)}}},"id":{{id}}}""";

    public static string Unsubscribe(string subscription, int id) =>
        $$"""{"jsonrpc":"2.0","method":"rpc.unsubscribe","params":{"subscription":"{{subscription}}"},"id":{{id}}}""";

    public static async Task<WireMessage> NextAsync(this RpcTestClient client, CancellationToken cancellationToken)
    {
        (string Text, System.Net.WebSockets.WebSocketMessageType Type)? message = await client.ReceiveAsync(cancellationToken);
        message.Should().NotBeNull($"the server must send rather than close the connection ({client.CloseStatus})");
        return WireMessage.Parse(message!.Value.Text);
    }

    /// <summary>Subscribes and returns the id; the answer must be the next message.</summary>
    public static async Task<string> SubscribeAsync(this RpcTestClient client, string topic, int id, CancellationToken cancellationToken, string? @params = null)
    {
        await client.SendAsync(Subscribe(topic, id, @params), cancellationToken);
        WireMessage answer = await client.NextAsync(cancellationToken);
        answer.Id.Should().Be(id.ToString(System.Globalization.CultureInfo.InvariantCulture), "the subscribe answer comes before any event: " + answer.Text);
        return answer.Result!.Value.GetString()!;
    }
}
