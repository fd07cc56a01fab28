namespace CameraRpc.Protocol;

public static partial class BuiltInRpcMethods
{
    private static readonly byte[][] s_subscribeNames = ["topic"u8.ToArray(), "params"u8.ToArray()];
    private static readonly byte[][] s_cancelNames = ["id"u8.ToArray()];

    [RpcMethod("rpc.unsubscribe", Summary = "Ends a subscription of this connection: true if it was active, false otherwise.")]
    public static bool Unsubscribe(string subscription, RpcContext context) =>
        context.Subscriptions?.Unsubscribe(subscription) ?? false;

    /// <summary>
    /// The built-ins the generator cannot describe: they reach into the engine (the answer a subscription
    /// waits behind, whether the call is a notification), so their invokers and descriptors are written here.
    /// </summary>
    private static RpcMethod[] EngineMethods() =>
    [
        new RpcMethod(
            "rpc.subscribe",
            SubscribeAsync,
            """{"name":"rpc.subscribe","summary":"Subscribes this connection to a topic (see x-topics); answers the subscription id. WebSocket only.","params":[{"name":"topic","required":true,"schema":{"type":"string"}},{"name":"params","required":false,"schema":{"type":["array","object"]}}],"result":{"name":"result","schema":{"type":"string"}}}"""),
        new RpcMethod(
            "$/cancelRequest",
            Cancel,
            """{"name":"$/cancelRequest","summary":"A notification: cancels this connection's call with that id; a call ended by it is answered -32800.","params":[{"name":"id","required":true,"schema":{"type":["string","number","null"]}}],"result":{"name":"result","schema":{"type":"null"}}}"""),
    ];

    /// <summary><c>rpc.subscribe</c>: topic (string), params (optional array or object for the topic) → the subscription id.</summary>
    private static ValueTask<RpcInvokeResult> SubscribeAsync(RpcInvocation invocation)
    {
        string? topicName = null;
        ReadOnlyMemory<byte> topicParams = default;
        RpcParamsKind kind = RpcParamsKind.None;
        var reader = new RpcParamsReader(in invocation);
        while (reader.MoveNext(s_subscribeNames, out int slot))
        {
            switch (slot)
            {
                case 0:
                    if (!reader.TryReadString(out topicName, nullable: false))
                    {
                        return Refuse("topic", RpcParamFailure.Type);
                    }

                    break;
                case 1:
                    reader.TryReadRawJson(out RpcRawJson raw);
                    ReadOnlySpan<byte> bytes = raw.Utf8Json.Span;
                    kind = bytes.Length > 0 && bytes[0] == (byte)'[' ? RpcParamsKind.ByPosition
                        : bytes.Length > 0 && bytes[0] == (byte)'{' ? RpcParamsKind.ByName
                        : RpcParamsKind.None;
                    if (kind == RpcParamsKind.None)
                    {
                        return Refuse("params", RpcParamFailure.Type);
                    }

                    topicParams = raw.Utf8Json;
                    break;
                default:
                    return Refuse(reader.UnexpectedName!, RpcParamFailure.Unexpected);
            }
        }

        if (topicName is null)
        {
            return Refuse("topic", RpcParamFailure.Missing);
        }

        // Over HTTP nothing can be subscribed, whatever the topic (CONTRACT section 6: -32004).
        RpcContext context = invocation.Context;
        if (!context.CanSubscribe)
        {
            return new ValueTask<RpcInvokeResult>(RpcInvokeResult.Refused(RpcErrorCode.NotAvailableOverHttp));
        }

        if (!context.Methods.TryFindTopic(System.Text.Encoding.UTF8.GetBytes(topicName), out RpcTopicInfo? topic))
        {
            return Refuse("topic", RpcParamFailure.Unknown);
        }

        // A topic's scope is checked like a method's: against the caller's token (CONTRACT section 8).
        if (topic.Scope is not null && !context.HasScope(topic.Scope))
        {
            return new ValueTask<RpcInvokeResult>(RpcInvokeResult.Refused(RpcErrorCode.Forbidden, topic.Scope));
        }

        return context.GetOrCreateSubscriptions().SubscribeAsync(topic, invocation, topicParams, kind);
    }

    /// <summary><c>$/cancelRequest</c> {"id": ID}: a notification; with an id of its own it is -32600.</summary>
    private static ValueTask<RpcInvokeResult> Cancel(RpcInvocation invocation)
    {
        if (!invocation.IsNotification)
        {
            return new ValueTask<RpcInvokeResult>(RpcInvokeResult.Refused(RpcErrorCode.InvalidRequest));
        }

        CancelById(in invocation);
        RpcResultWriter.WriteNull(invocation.Result);
        return new ValueTask<RpcInvokeResult>(RpcInvokeResult.Success);
    }

    /// <summary>Cancels the connection's call named by the <c>id</c> param (by value); an unknown id is ignored.</summary>
    internal static void CancelById(in RpcInvocation invocation)
    {
        var reader = new RpcParamsReader(in invocation);
        while (reader.MoveNext(s_cancelNames, out int slot))
        {
            if (slot != 0)
            {
                reader.Skip();
                continue;
            }

            reader.TryReadRawJson(out RpcRawJson id);
            invocation.Context.Calls?.Cancel(id.Utf8Json.Span);
        }
    }

    private static ValueTask<RpcInvokeResult> Refuse(string param, RpcParamFailure failure) =>
        new(RpcInvokeResult.InvalidParams(param, failure));
}
