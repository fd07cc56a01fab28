using System.Buffers;
using System.Text.Json;

namespace CameraRpc.Protocol;

public sealed partial class RpcDispatcher
{
    /// <summary>
    /// Answers a batch: one array in request order, notifications left out; nothing when only
    /// notifications; one -32600 when empty or over <see cref="RpcDispatcherOptions.MaxBatch"/>.
    /// </summary>
    /// <remarks>
    /// The whole message is validated before any call runs, so a batch that is not JSON is one
    /// -32700 and runs nothing. The calls then start one after the other and run concurrently; each
    /// writes into its own buffer, and the answers are joined in request order once all are done.
    /// </remarks>
    private ValueTask<bool> DispatchBatchAsync(ReadOnlyMemory<byte> message, RpcResponseBuffer output, RpcContext context, RpcWaitingCalls? waiting, CancellationToken cancellationToken)
    {
        if (!TryReadBatch(message.Span, out int[] bounds, out int count))
        {
            return ParseError(output);
        }

        if (count == 0)
        {
            ArrayPool<int>.Shared.Return(bounds);
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            RpcErrors.WriteInvalidRequest(output, []);
            Options.Observer?.OnCallCompleted(null, RpcErrorCode.InvalidRequest, start);
            return new ValueTask<bool>(true);
        }

        if (count > Options.MaxBatch)
        {
            ArrayPool<int>.Shared.Return(bounds);
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            RpcErrors.WriteBatchTooLarge(output, Options.MaxBatch, count);
            Options.Observer?.OnCallCompleted(null, RpcErrorCode.InvalidRequest, start);
            return new ValueTask<bool>(true);
        }

        return RunBatchAsync(message, bounds, count, output, context, waiting, cancellationToken);
    }

    /// <summary>
    /// The start and length of each element of the batch <paramref name="span"/> (pairs in
    /// <paramref name="bounds"/>, rented from the pool: the caller gives it back); false, with nothing
    /// rented, when the batch is not JSON or something follows it.
    /// </summary>
    private static bool TryReadBatch(ReadOnlySpan<byte> span, out int[] bounds, out int count)
    {
        count = 0;
        bounds = ArrayPool<int>.Shared.Rent(32);
        try
        {
            var reader = new Utf8JsonReader(span, RpcEnvelopeReader.ReaderOptions);
            reader.Read(); // '['
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                int start = (int)reader.TokenStartIndex;
                reader.Skip();
                if (count * 2 + 2 > bounds.Length)
                {
                    bounds = PooledArrays.Grow(bounds, count * 2, bounds.Length * 2);
                }

                bounds[count * 2] = start;
                bounds[count * 2 + 1] = (int)reader.BytesConsumed - start;
                count++;
            }

            if (!reader.Read())
            {
                return true;
            }
        }
        catch (JsonException)
        {
        }

        ArrayPool<int>.Shared.Return(bounds);
        bounds = [];
        return false;
    }

    /// <remarks>Every call starts before the first await, so <paramref name="waiting"/> is done with once the dispatch returns.</remarks>
    private async ValueTask<bool> RunBatchAsync(ReadOnlyMemory<byte> message, int[] bounds, int count, RpcResponseBuffer output, RpcContext context, RpcWaitingCalls? waiting, CancellationToken cancellationToken)
    {
        var answers = new RpcResponseBuffer[count];
        var pending = new ValueTask<bool>[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                answers[i] = RpcResponseBuffer.Rent();
                pending[i] = StartBatchElement(message, bounds[i * 2], bounds[i * 2 + 1], answers[i], context, cancellationToken, waiting?.Take(i));
            }

            bool any = false;
            for (int i = 0; i < count; i++)
            {
                if (!await pending[i].ConfigureAwait(false))
                {
                    continue;
                }

                output.Write(any ? (byte)',' : (byte)'[');
                output.Write(answers[i].WrittenSpan);
                output.HoldAllOf(answers[i]);
                any = true;
            }

            if (any)
            {
                output.Write((byte)']');
            }

            return any;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(bounds);
            foreach (RpcResponseBuffer? answer in answers)
            {
                if (answer is not null)
                {
                    RpcResponseBuffer.Return(answer);
                }
            }
        }
    }

    private ValueTask<bool> StartBatchElement(ReadOnlyMemory<byte> message, int start, int length, RpcResponseBuffer answer, RpcContext context, CancellationToken cancellationToken, RpcCall? waiting)
    {
        // Already validated as a whole, so this read cannot fail; its positions are relative to the whole
        // message so that the id and params slices point into it.
        TryReadElement(message.Span, start, length, out RpcRequest request);
        return DispatchRequestAsync(message, request, answer, context, cancellationToken, waiting);
    }
}
