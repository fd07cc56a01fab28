using System.Buffers;
using System.Text.Json;
using CameraRpc.Server.Tools.Client;

namespace CameraRpc.Server.Tools.Watch;

/// <summary>
/// The messages of a subscription as contract section 6 spells them: the <c>rpc.subscribe</c> and
/// <c>rpc.unsubscribe</c> requests <c>watch</c> sends, and what a notification the server pushes means
/// for the subscription being watched.
/// </summary>
internal static class SubscriptionMessages
{
    /// <summary><c>{"jsonrpc":"2.0","method":"rpc.subscribe","params":{"topic":T[,"params":P]},"id":ID}</c>.</summary>
    /// <param name="topic">The topic's name.</param>
    /// <param name="paramsJson">The topic's params (a compact JSON array or object, already validated), or <see langword="null"/>.</param>
    /// <param name="id">The request's id.</param>
    public static byte[] Subscribe(string topic, string? paramsJson, long id)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("topic"u8, topic);
            if (paramsJson is not null)
            {
                writer.WritePropertyName("params"u8);
                writer.WriteRawValue(paramsJson, skipInputValidation: false);
            }

            writer.WriteEndObject();
        }

        return RpcClient.BuildRequest("rpc.subscribe", System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan), id);
    }

    /// <summary><c>{"jsonrpc":"2.0","method":"rpc.unsubscribe","params":{"subscription":ID},"id":ID}</c>.</summary>
    public static byte[] Unsubscribe(string subscription, long id)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("subscription"u8, subscription);
            writer.WriteEndObject();
        }

        return RpcClient.BuildRequest("rpc.unsubscribe", System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan), id);
    }

    /// <summary>True when <paramref name="message"/> is the answer (result or error) to the request with <paramref name="id"/>.</summary>
    public static bool IsAnswerTo(RpcAnswer message, long id) =>
        message.Root.ValueKind == JsonValueKind.Object
        && !message.Root.TryGetProperty("method"u8, out _)
        && message.Root.TryGetProperty("id"u8, out JsonElement answerId)
        && answerId.ValueKind == JsonValueKind.Number
        && answerId.TryGetInt64(out long number)
        && number == id;

    /// <summary>
    /// What a message means for subscription <paramref name="subscription"/>: one of its events, its end,
    /// or nothing (an answer, another subscription's event, any other notification).
    /// </summary>
    public static SubscriptionMessage Classify(RpcAnswer message, string subscription)
    {
        JsonElement root = message.Root;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("method"u8, out JsonElement method) || method.ValueKind != JsonValueKind.String
            || !root.TryGetProperty("params"u8, out JsonElement parameters) || parameters.ValueKind != JsonValueKind.Object
            || !parameters.TryGetProperty("subscription"u8, out JsonElement id) || id.ValueKind != JsonValueKind.String
            || !id.ValueEquals(subscription)
            || !parameters.TryGetProperty("seq"u8, out JsonElement seqElement) || !seqElement.TryGetInt64(out long seq))
        {
            return SubscriptionMessage.None;
        }

        if (parameters.TryGetProperty("result"u8, out JsonElement result))
        {
            return new SubscriptionMessage(SubscriptionMessageKind.Event, seq, result, null);
        }

        if (parameters.TryGetProperty("end"u8, out JsonElement end))
        {
            return new SubscriptionMessage(SubscriptionMessageKind.End, seq, default, end.ValueKind == JsonValueKind.String ? end.GetString() : end.GetRawText());
        }

        return SubscriptionMessage.None;
    }

    /// <summary>The line <c>watch</c> prints for an event: <c>{"seq":N,"result":VALUE}</c>, compact, on one line.</summary>
    public static string EventLine(long seq, JsonElement result)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("seq"u8, seq);
            writer.WritePropertyName("result"u8);
            result.WriteTo(writer);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>What kind of message <see cref="SubscriptionMessages.Classify"/> found.</summary>
internal enum SubscriptionMessageKind
{
    /// <summary>Not about the watched subscription.</summary>
    None,

    /// <summary>One of its events (<c>"result"</c>).</summary>
    Event,

    /// <summary>Its last notification (<c>"end"</c>): the server ended it.</summary>
    End,
}

/// <summary>One message about the watched subscription: its kind, <c>seq</c>, and the event's value or the end's reason.</summary>
internal readonly record struct SubscriptionMessage(SubscriptionMessageKind Kind, long Seq, JsonElement Result, string? EndReason)
{
    /// <summary>A message that is not about the watched subscription.</summary>
    public static SubscriptionMessage None => default;
}
