using System.Text.Json;

namespace CameraRpc.Protocol;

public sealed partial class RpcDispatcher
{
    /// <summary>
    /// How many calls a whole message counts as against a rate limit, before it runs: each request or
    /// notification its method's <see cref="RpcMethod.Cost"/> (an unknown method 1), <c>$/cancelRequest</c>
    /// nothing; at least 1, so that a message that is not JSON still counts. For a transport that
    /// must refuse a message as a whole (an HTTP POST over the limit gets 429).
    /// </summary>
    public long MeasureCost(ReadOnlySpan<byte> message)
    {
        long cost = 0;
        try
        {
            var reader = new Utf8JsonReader(message, RpcEnvelopeReader.ReaderOptions);
            if (!reader.Read())
            {
                return 1;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                return Math.Max(1, CostOf(message, ref reader, 0));
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                int start = (int)reader.TokenStartIndex;
                reader.Skip();
                var element = new Utf8JsonReader(message.Slice(start, (int)reader.BytesConsumed - start), RpcEnvelopeReader.ReaderOptions);
                element.Read();
                cost += CostOf(message, ref element, start);
            }
        }
        catch (JsonException)
        {
            // Not JSON: answered -32700 without running anything; what was counted so far stands.
        }

        return Math.Max(1, cost);
    }

    private long CostOf(ReadOnlySpan<byte> message, ref Utf8JsonReader reader, int offset)
    {
        if (!RpcEnvelopeReader.TryRead(ref reader, offset, out RpcRequest request) || !request.IsValid)
        {
            return 0; // not a request: answered -32600, nothing runs (the dispatcher does not admit it either)
        }

        bool found = TryFindMethod(message, request, out RpcMethod? method, out byte[]? unescaped, out int unescapedLength);
        bool cancel = IsCancelRequest(method, message, request, unescaped, unescapedLength);
        if (unescaped is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(unescaped);
        }

        return cancel ? 0 : found ? method!.Cost : 1;
    }
}
