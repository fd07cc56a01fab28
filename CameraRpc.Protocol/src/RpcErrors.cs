using System.Text;
using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// The error factory: the one place where an error answer is written and where every error
/// message of the engine is spelled (CONTRACT section 3).
/// </summary>
/// <remarks>
/// Each method writes a complete answer object,
/// <c>{"jsonrpc":"2.0","error":{"code":…,"message":…[,"data":…]},"id":…}</c>, into an
/// <see cref="RpcResponseBuffer"/>. The id is echoed from its raw bytes; an empty id span means
/// <c>null</c>. Nothing of an exception's text ever reaches an answer: -32603 is written without it.
/// </remarks>
public static class RpcErrors
{
    public const string ParseErrorMessage = "Parse error";
    public const string InvalidRequestMessage = "Invalid Request";
    public const string MethodNotFoundMessage = "Method not found";
    public const string InvalidParamsMessage = "Invalid params";
    public const string InternalErrorMessage = "Internal error";
    public const string ServerShuttingDownMessage = "Server is shutting down";
    public const string ForbiddenMessage = "Forbidden";
    public const string NotAvailableOverHttpMessage = "Not available over HTTP";
    public const string RateLimitExceededMessage = "Rate limit exceeded";
    public const string TooManySubscriptionsMessage = "Too many subscriptions";
    public const string RequestCancelledMessage = "Request cancelled";

    /// <summary>Longest method name, in characters, quoted back in a -32601 message.</summary>
    public const int MaxQuotedMethodNameLength = 64;

    private static ReadOnlySpan<byte> ErrorPrefix => "{\"jsonrpc\":\"2.0\",\"error\":"u8;

    // The parse error never depends on the input, so it is one constant answer.
    private static ReadOnlySpan<byte> ParseErrorAnswer =>
        "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":\"Parse error\"},\"id\":null}"u8;

    /// <summary>-32700: the message is not JSON (id <c>null</c>).</summary>
    public static void WriteParseError(RpcResponseBuffer output) => output.Write(ParseErrorAnswer);

    /// <summary>-32600: JSON, but not a request object.</summary>
    public static void WriteInvalidRequest(RpcResponseBuffer output, ReadOnlySpan<byte> rawId) =>
        Write(output, RpcErrorCode.InvalidRequest, InvalidRequestMessage, rawId);

    /// <summary>-32600 for a whole batch over the limit; none of its calls ran.</summary>
    public static void WriteBatchTooLarge(RpcResponseBuffer output, int maxBatch, int received)
    {
        Utf8JsonWriter json = Begin(output, RpcErrorCode.InvalidRequest, InvalidRequestMessage);
        json.WriteStartObject(JsonRpcNames.Data);
        json.WriteString("limit"u8, "max-batch"u8);
        json.WriteNumber("max"u8, maxBatch);
        json.WriteNumber("received"u8, received);
        json.WriteEndObject();
        End(output, json, []);
    }

    /// <summary>-32601, quoting the method name the client sent (cut to 64 characters).</summary>
    /// <remarks>
    /// Characters are Unicode scalar values, as the seed's Python server counted them: a name of
    /// emoji is cut after 64 emoji, never inside one. Only the quoted prefix is decoded.
    /// </remarks>
    public static void WriteMethodNotFound(RpcResponseBuffer output, ReadOnlySpan<byte> utf8Name, ReadOnlySpan<byte> rawId)
    {
        int prefix = 0;
        for (int characters = 0; characters < MaxQuotedMethodNameLength && prefix < utf8Name.Length; characters++)
        {
            Rune.DecodeFromUtf8(utf8Name[prefix..], out _, out int consumed);
            prefix += consumed;
        }

        string name = Encoding.UTF8.GetString(utf8Name[..prefix]);
        Write(output, RpcErrorCode.MethodNotFound, MethodNotFoundMessage + ": " + name, rawId);
    }

    /// <summary>-32602 with <c>data</c> <c>{"param":NAME,"reason":"missing"|"unexpected"|"type"}</c>.</summary>
    public static void WriteInvalidParams(RpcResponseBuffer output, string param, RpcParamFailure reason, ReadOnlySpan<byte> rawId)
    {
        Utf8JsonWriter json = Begin(output, RpcErrorCode.InvalidParams, InvalidParamsMessage);
        json.WriteStartObject(JsonRpcNames.Data);
        json.WriteString("param"u8, param);
        json.WriteString("reason"u8, reason switch
        {
            RpcParamFailure.Missing => "missing"u8,
            RpcParamFailure.Unexpected => "unexpected"u8,
            RpcParamFailure.Unknown => "unknown"u8,
            _ => "type"u8,
        });
        json.WriteEndObject();
        End(output, json, rawId);
    }

    /// <summary>-32603: a handler failed; the exception stays in the log, never in the answer.</summary>
    public static void WriteInternalError(RpcResponseBuffer output, ReadOnlySpan<byte> rawId) =>
        Write(output, RpcErrorCode.InternalError, InternalErrorMessage, rawId);

    /// <summary>-32000: the call arrived during shutdown and was not run.</summary>
    public static void WriteServerShuttingDown(RpcResponseBuffer output, ReadOnlySpan<byte> rawId) =>
        Write(output, RpcErrorCode.ServerShuttingDown, ServerShuttingDownMessage, rawId);

    /// <summary>-32001 with <c>data</c> <c>{"scope":NAME}</c>: the token lacks the scope the method or topic needs.</summary>
    public static void WriteForbidden(RpcResponseBuffer output, string scope, ReadOnlySpan<byte> rawId)
    {
        Utf8JsonWriter json = Begin(output, RpcErrorCode.Forbidden, ForbiddenMessage);
        json.WriteStartObject(JsonRpcNames.Data);
        json.WriteString("scope"u8, scope);
        json.WriteEndObject();
        End(output, json, rawId);
    }

    /// <summary>-32004: the method needs a WebSocket (subscriptions over HTTP POST).</summary>
    public static void WriteNotAvailableOverHttp(RpcResponseBuffer output, ReadOnlySpan<byte> rawId) =>
        Write(output, RpcErrorCode.NotAvailableOverHttp, NotAvailableOverHttpMessage, rawId);

    /// <summary>-32005 with <c>data</c> <c>{"retryAfterMs":N}</c>: over a rate limit; the call did not run.</summary>
    public static void WriteRateLimitExceeded(RpcResponseBuffer output, long retryAfterMs, ReadOnlySpan<byte> rawId)
    {
        Utf8JsonWriter json = Begin(output, RpcErrorCode.RateLimitExceeded, RateLimitExceededMessage);
        json.WriteStartObject(JsonRpcNames.Data);
        json.WriteNumber("retryAfterMs"u8, retryAfterMs);
        json.WriteEndObject();
        End(output, json, rawId);
    }

    /// <summary>-32006: the connection already holds <c>--max-subscriptions</c> subscriptions.</summary>
    public static void WriteTooManySubscriptions(RpcResponseBuffer output, ReadOnlySpan<byte> rawId) =>
        Write(output, RpcErrorCode.TooManySubscriptions, TooManySubscriptionsMessage, rawId);

    /// <summary>-32800: the call was cancelled by <c>$/cancelRequest</c>.</summary>
    public static void WriteRequestCancelled(RpcResponseBuffer output, ReadOnlySpan<byte> rawId) =>
        Write(output, RpcErrorCode.RequestCancelled, RequestCancelledMessage, rawId);

    /// <summary>A handler's own error, passed through exactly as thrown.</summary>
    public static void WriteApplicationError(RpcResponseBuffer output, RpcException exception, ReadOnlySpan<byte> rawId)
    {
        Utf8JsonWriter json = Begin(output, exception.Code, exception.Message);
        if (exception.ErrorData is JsonElement data)
        {
            json.WritePropertyName(JsonRpcNames.Data);
            data.WriteTo(json);
        }

        End(output, json, rawId);
    }

    private static void Write(RpcResponseBuffer output, int code, string message, ReadOnlySpan<byte> rawId)
    {
        Utf8JsonWriter json = Begin(output, code, message);
        End(output, json, rawId);
    }

    private static Utf8JsonWriter Begin(RpcResponseBuffer output, int code, string message)
    {
        output.Write(ErrorPrefix);
        Utf8JsonWriter json = output.StartJsonValue();
        json.WriteStartObject();
        json.WriteNumber(JsonRpcNames.Code, code);
        json.WriteString(JsonRpcNames.Message, message);
        return json;
    }

    private static void End(RpcResponseBuffer output, Utf8JsonWriter json, ReadOnlySpan<byte> rawId)
    {
        json.WriteEndObject();
        json.Flush();
        WriteIdAndClose(output, rawId);
    }

    /// <summary>Writes <c>,"id":ID}</c>; an empty <paramref name="rawId"/> is written as <c>null</c>.</summary>
    internal static void WriteIdAndClose(RpcResponseBuffer output, ReadOnlySpan<byte> rawId)
    {
        output.Write(JsonRpcNames.IdInfix);
        output.Write(rawId.IsEmpty ? JsonRpcNames.Null : rawId);
        output.Write((byte)'}');
    }
}
