using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace CameraRpc.Protocol;

/// <summary>
/// The engine's side of a transport at <c>--max-concurrency</c>, which still reads one message ahead so
/// that a cancel is never held behind back-pressure (CONTRACT section 6).
/// </summary>
/// <remarks>
/// A message read while the connection is at its limit first gives up its <c>$/cancelRequest</c>
/// notifications (<see cref="ApplyCancels"/>: applied at once, whether the message is one or a batch of
/// them). What is left waits for a call slot with its calls registered by id (<see cref="RegisterWaiting"/>),
/// so that a later cancel reaches them too; a call cancelled while waiting never runs and is answered
/// -32800, on its own at once (<see cref="WriteCancelled"/>) or in its batch's answer when the batch runs
/// (<see cref="DispatchAsync(ReadOnlyMemory{byte}, RpcResponseBuffer, RpcContext, RpcWaitingCalls?, CancellationToken)"/>).
/// </remarks>
public sealed partial class RpcDispatcher
{
    private static ReadOnlySpan<byte> CancelRequestName => "$/cancelRequest"u8;

    /// <summary>
    /// Applies at once every <c>$/cancelRequest</c> notification of <paramref name="message"/>: the message
    /// itself, or the elements of a batch. A batch that also holds other elements is rewritten in place
    /// without its cancels, so that they do not run a second time when it is dispatched.
    /// </summary>
    /// <returns>
    /// The length of what is left to dispatch: 0 when the message was nothing but cancels (nothing to run
    /// or answer), <c>message.Length</c> when it held none (or is not valid JSON-RPC: answered when dispatched).
    /// </returns>
    public int ApplyCancels(Memory<byte> message, RpcContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ReadOnlySpan<byte> span = message.Span;
        if (!Utf8.IsValid(span))
        {
            return message.Length;
        }

        if (!IsBatch(span))
        {
            if (TryReadSingle(span, out RpcRequest request) && IsCancelNotification(span, request))
            {
                ApplyCancel(message, request, context);
                return 0;
            }

            return message.Length;
        }

        int count = 0;
        int[]? bounds = TryReadBatchBounds(span, ref count);
        if (bounds is null)
        {
            return message.Length;
        }

        try
        {
            int cancels = 0;
            for (int i = 0; i < count; i++)
            {
                if (TryReadElement(span, bounds[i * 2], bounds[i * 2 + 1], out RpcRequest request) && IsCancelNotification(span, request))
                {
                    ApplyCancel(message, request, context);
                    bounds[i * 2 + 1] = -1; // applied: left out below
                    cancels++;
                }
            }

            return cancels == 0 ? message.Length : cancels == count ? 0 : WithoutCancels(message.Span, bounds, count);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(bounds);
        }
    }

    /// <summary>
    /// Registers by id the calls of <paramref name="message"/>, which waits for a call slot, so that a cancel
    /// reaches them before they run; they run (or are answered -32800) when the message is dispatched with
    /// <paramref name="waiting"/>. A message that is not valid JSON-RPC, or a batch over the limit, registers
    /// nothing: its answer runs nothing either.
    /// </summary>
    public void RegisterWaiting(ReadOnlyMemory<byte> message, RpcContext context, RpcWaitingCalls waiting, CancellationToken connection)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(waiting);
        waiting.Release();
        ReadOnlySpan<byte> span = message.Span;
        if (context.Calls is not { } calls || !Utf8.IsValid(span))
        {
            return;
        }

        if (!IsBatch(span))
        {
            if (TryReadSingle(span, out RpcRequest request) && !request.IsNotification)
            {
                waiting.Reset(1, isBatch: false);
                waiting.Add(0, calls.Begin(span.Slice(request.IdStart, request.IdLength), connection));
            }

            return;
        }

        int count = 0;
        int[]? bounds = TryReadBatchBounds(span, ref count);
        if (bounds is null)
        {
            return;
        }

        waiting.Reset(count, isBatch: true);
        for (int i = 0; i < count; i++)
        {
            if (TryReadElement(span, bounds[i * 2], bounds[i * 2 + 1], out RpcRequest request) && request.IsValid && !request.IsNotification)
            {
                waiting.Add(i, calls.Begin(span.Slice(request.IdStart, request.IdLength), connection));
            }
        }

        ArrayPool<int>.Shared.Return(bounds);
    }

    /// <summary>Answers the held single request <paramref name="held"/> with -32800 without running it (it was cancelled while waiting for a call slot).</summary>
    /// <returns>False when there is nothing to answer.</returns>
    public bool WriteCancelled(ReadOnlyMemory<byte> held, RpcResponseBuffer output)
    {
        ArgumentNullException.ThrowIfNull(output);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!TryReadSingle(held.Span, out RpcRequest request) || request.IsNotification)
        {
            return false;
        }

        RpcErrors.WriteRequestCancelled(output, held.Span.Slice(request.IdStart, request.IdLength));
        Options.Observer?.OnCallCompleted(null, RpcErrorCode.RequestCancelled, start);
        return true;
    }

    /// <summary>A <c>$/cancelRequest</c> notification, its name spelled however (escapes decoded before comparing).</summary>
    private bool IsCancelNotification(ReadOnlySpan<byte> message, in RpcRequest request)
    {
        if (!request.IsValid || !request.IsNotification)
        {
            return false;
        }

        bool found = TryFindMethod(message, request, out RpcMethod? method, out byte[]? unescaped, out int unescapedLength);
        bool cancel = IsCancelRequest(method, message, request, unescaped, unescapedLength);
        if (unescaped is not null)
        {
            ArrayPool<byte>.Shared.Return(unescaped);
        }

        // Without the built-in in the table, a cancel is no method at all: dispatched, and ignored as one.
        return cancel && found;
    }

    /// <summary>Cancels the call named by the <c>id</c> param of the cancel <paramref name="request"/>, as the built-in would.</summary>
    private static void ApplyCancel(ReadOnlyMemory<byte> message, in RpcRequest request, RpcContext context)
    {
        var invocation = new RpcInvocation(message.Slice(request.ParamsStart, request.ParamsLength), request.ParamsKind, null!, context, default);
        BuiltInRpcMethods.CancelById(in invocation);
    }

    /// <summary>Rewrites the batch in place with only the elements not applied (length -1 in <paramref name="bounds"/>); returns its new length.</summary>
    private static int WithoutCancels(Span<byte> message, int[] bounds, int count)
    {
        int written = message.IndexOf((byte)'[') + 1;
        bool first = true;
        for (int i = 0; i < count; i++)
        {
            int length = bounds[i * 2 + 1];
            if (length < 0)
            {
                continue;
            }

            if (!first)
            {
                message[written++] = (byte)',';
            }

            message.Slice(bounds[i * 2], length).CopyTo(message[written..]); // moves left: overlap is fine
            written += length;
            first = false;
        }

        message[written++] = (byte)']';
        return written;
    }

    private static bool IsBatch(ReadOnlySpan<byte> span)
    {
        int first = 0;
        while (first < span.Length && span[first] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            first++;
        }

        return first < span.Length && span[first] == (byte)'[';
    }

    /// <summary>The element bounds of a batch that the dispatcher would run (valid JSON, 1 to <see cref="RpcDispatcherOptions.MaxBatch"/> elements), rented; null for any other.</summary>
    private int[]? TryReadBatchBounds(ReadOnlySpan<byte> span, ref int count)
    {
        if (!TryReadBatch(span, out int[] bounds, out count))
        {
            return null;
        }

        if (count > 0 && count <= Options.MaxBatch)
        {
            return bounds;
        }

        ArrayPool<int>.Shared.Return(bounds);
        return null;
    }

    private static bool TryReadElement(ReadOnlySpan<byte> span, int start, int length, out RpcRequest request)
    {
        var reader = new Utf8JsonReader(span.Slice(start, length), RpcEnvelopeReader.ReaderOptions);
        reader.Read();
        return RpcEnvelopeReader.TryRead(ref reader, start, out request);
    }

    /// <summary>Reads a message that is one request object (not a batch); false for anything else.</summary>
    private static bool TryReadSingle(ReadOnlySpan<byte> span, out RpcRequest request)
    {
        request = default;
        if (!Utf8.IsValid(span))
        {
            return false;
        }

        var reader = new Utf8JsonReader(span, RpcEnvelopeReader.ReaderOptions);
        try
        {
            return reader.Read()
                && reader.TokenType == JsonTokenType.StartObject
                && RpcEnvelopeReader.TryRead(ref reader, 0, out request)
                && !reader.Read()
                && request.IsValid;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
