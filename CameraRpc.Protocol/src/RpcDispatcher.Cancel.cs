using System.Text.Json;
using System.Text.Unicode;

namespace CameraRpc.Protocol;

/// <summary>What <see cref="RpcDispatcher.ApplyIfCancel"/> made of a message.</summary>
public enum RpcCancelCheck
{
    /// <summary>Not a <c>$/cancelRequest</c> notification: dispatch it as usual.</summary>
    NotACancel,

    /// <summary>A cancel, applied to the running call with that id (or ignored: no such call). Nothing to answer.</summary>
    Applied,

    /// <summary>A cancel of the held message's call: answer that one -32800 with <see cref="RpcDispatcher.WriteCancelled"/> and do not run it.</summary>
    CancelsHeld,
}

public sealed partial class RpcDispatcher
{
    private static readonly byte[][] s_cancelParamNames = ["id"u8.ToArray()];

    private static ReadOnlySpan<byte> CancelRequestName => "$/cancelRequest"u8;

    /// <summary>
    /// For a transport at <c>--max-concurrency</c>, which still reads one message ahead so that a cancel
    /// is never held behind back-pressure (CONTRACT section 6): applies <paramref name="message"/> at once
    /// when it is a <c>$/cancelRequest</c> notification. <paramref name="held"/> is the message waiting for a
    /// call slot (empty for none); a cancel of its id says so instead of looking among the running calls.
    /// </summary>
    public RpcCancelCheck ApplyIfCancel(ReadOnlyMemory<byte> message, RpcContext context, ReadOnlyMemory<byte> held)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!TryReadSingle(message.Span, out RpcRequest request)
            || !request.IsNotification
            || request.MethodIsEscaped
            || !message.Span.Slice(request.MethodStart, request.MethodLength).SequenceEqual(CancelRequestName))
        {
            return RpcCancelCheck.NotACancel;
        }

        var invocation = new RpcInvocation(message.Slice(request.ParamsStart, request.ParamsLength), request.ParamsKind, null!, context, default);
        var reader = new RpcParamsReader(in invocation);
        ReadOnlySpan<byte> id = default;
        bool found = false;
        while (reader.MoveNext(s_cancelParamNames, out int slot))
        {
            if (slot != 0)
            {
                reader.Skip();
                continue;
            }

            reader.TryReadRawJson(out RpcRawJson raw);
            id = raw.Utf8Json.Span;
            found = true;
        }

        if (found
            && !held.IsEmpty
            && TryReadSingle(held.Span, out RpcRequest waiting)
            && !waiting.IsNotification
            && waiting.IsValid
            && RpcIdComparer.Equals(held.Span.Slice(waiting.IdStart, waiting.IdLength), id))
        {
            return RpcCancelCheck.CancelsHeld;
        }

        if (found)
        {
            context.Calls?.Cancel(id);
        }

        return RpcCancelCheck.Applied;
    }

    /// <summary>Answers the held message <paramref name="held"/> with -32800 without running it (it was cancelled while waiting for a call slot).</summary>
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
