using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Unicode;

namespace CameraRpc.Protocol;

/// <summary>
/// The JSON-RPC 2.0 engine: turns one inbound message (bytes) into the bytes of its answer, or into
/// nothing (notifications). Transport-agnostic: WebSocket and HTTP both call <see cref="DispatchAsync(ReadOnlyMemory{byte}, RpcResponseBuffer, RpcContext, CancellationToken)"/>.
/// </summary>
/// <remarks>
/// Thread-safe: any number of messages may be dispatched at once. A message's bytes must stay
/// unchanged until its dispatch completes (bound parameters may point into them). After warm-up a
/// call to a synchronous method allocates nothing: the envelope is read in place, the method is
/// found by its UTF-8 name, and the answer is written into the caller's pooled buffer.
/// </remarks>
public sealed partial class RpcDispatcher
{
    private volatile bool _shuttingDown;

    public RpcDispatcher(RpcMethodTable methods, RpcDispatcherOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(methods);
        Methods = methods;
        Options = options ?? new RpcDispatcherOptions();
        if (Options.MaxBatch < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxBatch must be at least 1.");
        }
    }

    /// <summary>The methods served.</summary>
    public RpcMethodTable Methods { get; }

    /// <summary>The limits and hooks.</summary>
    public RpcDispatcherOptions Options { get; }

    /// <summary>True once <see cref="BeginShutdown"/> ran: new calls are answered with -32000.</summary>
    public bool IsShuttingDown => _shuttingDown;

    /// <summary>From now on every new call is answered -32000 instead of running; calls already running finish.</summary>
    public void BeginShutdown() => _shuttingDown = true;

    /// <summary>
    /// Answers one message. The answer (a response object, or an array for a batch) is appended to
    /// <paramref name="output"/>.
    /// </summary>
    /// <returns>True when an answer was written; false when there is nothing to send (notifications only).</returns>
    public ValueTask<bool> DispatchAsync(ReadOnlyMemory<byte> message, RpcResponseBuffer output, RpcContext context, CancellationToken cancellationToken = default) =>
        DispatchAsync(message, output, context, waiting: null, cancellationToken);

    /// <summary>
    /// Answers a message that waited for a call slot: its calls were registered in <paramref name="waiting"/>
    /// (<see cref="RegisterWaiting"/>) so that a cancel could reach them; one cancelled meanwhile is answered
    /// -32800 without running, the others run as usual. <paramref name="waiting"/> is done with once this
    /// returns (what it still holds, give back with <see cref="RpcWaitingCalls.Release"/>).
    /// </summary>
    public ValueTask<bool> DispatchAsync(ReadOnlyMemory<byte> message, RpcResponseBuffer output, RpcContext context, RpcWaitingCalls? waiting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(context);
        ReadOnlySpan<byte> span = message.Span;

        // Utf8JsonReader does not check the UTF-8 inside strings; a binary WebSocket message or an
        // HTTP body could carry anything, and raw values are echoed, so check it all once, vectorized.
        if (!Utf8.IsValid(span))
        {
            return ParseError(output);
        }

        int first = 0;
        while (first < span.Length && span[first] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            first++;
        }

        if (first < span.Length && span[first] == (byte)'[')
        {
            return DispatchBatchAsync(message, output, context, waiting, cancellationToken);
        }

        RpcRequest request;
        var reader = new Utf8JsonReader(span, RpcEnvelopeReader.ReaderOptions);
        try
        {
            if (!reader.Read() || !RpcEnvelopeReader.TryRead(ref reader, 0, out request) || reader.Read())
            {
                return ParseError(output); // empty, malformed, or a second value after the first
            }
        }
        catch (JsonException)
        {
            return ParseError(output);
        }

        return DispatchRequestAsync(message, request, output, context, cancellationToken, waiting?.Take(0));
    }

    private ValueTask<bool> ParseError(RpcResponseBuffer output)
    {
        long start = Stopwatch.GetTimestamp();
        RpcErrors.WriteParseError(output);
        Options.Observer?.OnCallCompleted(null, RpcErrorCode.ParseError, start);
        return new ValueTask<bool>(true);
    }

    /// <summary>Answers one parsed request object (on its own or as part of a batch).</summary>
    /// <param name="waiting">The call registered while the message waited for a slot (<see cref="RegisterWaiting"/>), or null.</param>
    private ValueTask<bool> DispatchRequestAsync(ReadOnlyMemory<byte> message, in RpcRequest request, RpcResponseBuffer output, RpcContext context, CancellationToken cancellationToken, RpcCall? waiting)
    {
        long start = Stopwatch.GetTimestamp();
        ReadOnlySpan<byte> rawId = message.Span.Slice(request.IdStart, request.IdLength);
        IRpcCallObserver? observer = Options.Observer;

        if (!request.IsValid)
        {
            // Not a request at all, so not a notification either: always answered (specification section 7).
            RpcErrors.WriteInvalidRequest(output, rawId);
            observer?.OnCallCompleted(null, RpcErrorCode.InvalidRequest, start);
            return new ValueTask<bool>(true);
        }

        if (waiting is not null && waiting.CancelledByClient)
        {
            // Cancelled while it waited for a call slot: answered without running (CONTRACT section 6).
            RpcCallRegistry.End(waiting);
            RpcErrors.WriteRequestCancelled(output, rawId);
            observer?.OnCallCompleted(null, RpcErrorCode.RequestCancelled, start);
            return new ValueTask<bool>(true);
        }

        if (_shuttingDown)
        {
            EndCall(waiting);
            observer?.OnCallCompleted(null, RpcErrorCode.ServerShuttingDown, start);
            if (request.IsNotification)
            {
                return new ValueTask<bool>(false);
            }

            RpcErrors.WriteServerShuttingDown(output, rawId);
            return new ValueTask<bool>(true);
        }

        bool found = TryFindMethod(message.Span, request, out RpcMethod? method, out byte[]? unescapedName, out int unescapedLength);
        if (context.Admission is { } admission
            && !IsCancelRequest(method, message.Span, request, unescapedName, unescapedLength)
            && !Admit(admission, method, request, rawId, output, start))
        {
            EndCall(waiting);
            if (unescapedName is not null)
            {
                ArrayPool<byte>.Shared.Return(unescapedName);
            }

            return new ValueTask<bool>(!request.IsNotification);
        }

        if (!found)
        {
            EndCall(waiting);
            observer?.OnCallCompleted(null, RpcErrorCode.MethodNotFound, start);
            if (!request.IsNotification)
            {
                ReadOnlySpan<byte> name = unescapedName is null
                    ? message.Span.Slice(request.MethodStart, request.MethodLength)
                    : unescapedName.AsSpan(0, unescapedLength);
                RpcErrors.WriteMethodNotFound(output, name, rawId);
            }

            if (unescapedName is not null)
            {
                ArrayPool<byte>.Shared.Return(unescapedName);
            }

            return new ValueTask<bool>(!request.IsNotification);
        }

        Debug.Assert(method is not null, "found");
        int mark = output.WrittenCount;
        output.Write(JsonRpcNames.ResultPrefix);
        Utf8JsonWriter result = output.StartJsonValue();

        // A call with an id can be cancelled by $/cancelRequest: it gets a token of its own (pooled), and is
        // registered by its id below only if it goes on asynchronously (see RpcCallRegistry).
        CancellationToken connection = cancellationToken;
        RpcCall? call = waiting;
        if (call is null && !request.IsNotification && context.Calls is { } calls)
        {
            call = calls.Rent(connection);
        }

        if (call is not null)
        {
            cancellationToken = call.Token;
        }

        var invocation = new RpcInvocation(
            message.Slice(request.ParamsStart, request.ParamsLength), request.ParamsKind, result, context, cancellationToken)
        {
            Output = output,
            IsNotification = request.IsNotification,
        };

        ValueTask<RpcInvokeResult> pending;
        try
        {
            pending = method.Invoker(invocation);
        }
        catch (Exception exception)
        {
            return new ValueTask<bool>(Fail(method, exception, message, request, output, mark, start, cancellationToken, call));
        }

        if (pending.IsCompletedSuccessfully)
        {
            return new ValueTask<bool>(Finish(method, pending.Result, message, request, output, result, mark, start, cancellationToken, call));
        }

        if (call is { Owner: null } && !pending.IsCompleted)
        {
            // Still running when the dispatch returns: from now on a cancel read after this message may name it.
            context.Calls!.Register(call, rawId, connection);
        }

        return AwaitInvocationAsync(method, pending, message, request, output, result, mark, start, cancellationToken, call);
    }

    private static void EndCall(RpcCall? call)
    {
        if (call is not null)
        {
            RpcCallRegistry.End(call);
        }
    }

    /// <summary>The access step (scopes, rate limits): false when the call was refused and its answer written.</summary>
    private bool Admit(IRpcCallAdmission admission, RpcMethod? method, in RpcRequest request, ReadOnlySpan<byte> rawId, RpcResponseBuffer output, long start)
    {
        RpcAdmissionDecision decision = admission.Admit(method, out long retryAfterMs);
        if (decision == RpcAdmissionDecision.Admitted)
        {
            return true;
        }

        int code = decision == RpcAdmissionDecision.Forbidden ? RpcErrorCode.Forbidden : RpcErrorCode.RateLimitExceeded;
        Options.Observer?.OnCallCompleted(method, code, start);
        if (!request.IsNotification)
        {
            if (decision == RpcAdmissionDecision.Forbidden)
            {
                RpcErrors.WriteForbidden(output, method?.Scope ?? string.Empty, rawId);
            }
            else
            {
                RpcErrors.WriteRateLimitExceeded(output, retryAfterMs, rawId);
            }
        }

        return false;
    }

    /// <summary>
    /// <c>$/cancelRequest</c> never counts against a limit and needs no scope (contract section 8), wherever it
    /// is handled and however its name is spelled: decided by the name the lookup resolved (escapes decoded:
    /// <c>"$\/cancelRequest"</c> is the same method), never by the raw bytes.
    /// </summary>
    private static bool IsCancelRequest(RpcMethod? method, ReadOnlySpan<byte> message, in RpcRequest request, byte[]? unescapedName, int unescapedLength)
    {
        ReadOnlySpan<byte> name = method is not null ? method.Utf8Name.Span
            : unescapedName is not null ? unescapedName.AsSpan(0, unescapedLength)
            : message.Slice(request.MethodStart, request.MethodLength);
        return name.SequenceEqual(CancelRequestName);
    }

    private async ValueTask<bool> AwaitInvocationAsync(
        RpcMethod method, ValueTask<RpcInvokeResult> pending, ReadOnlyMemory<byte> message, RpcRequest request,
        RpcResponseBuffer output, Utf8JsonWriter result, int mark, long start, CancellationToken cancellationToken, RpcCall? call)
    {
        RpcInvokeResult outcome;
        try
        {
            outcome = await pending.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            return Fail(method, exception, message, request, output, mark, start, cancellationToken, call);
        }

        return Finish(method, outcome, message, request, output, result, mark, start, cancellationToken, call);
    }

    /// <summary>Completes the answer of a method that returned: its result, or -32602 if a parameter did not bind.</summary>
    private bool Finish(
        RpcMethod method, RpcInvokeResult outcome, ReadOnlyMemory<byte> message, in RpcRequest request,
        RpcResponseBuffer output, Utf8JsonWriter result, int mark, long start, CancellationToken cancellationToken, RpcCall? call)
    {
        EndCall(call);
        ReadOnlySpan<byte> rawId = message.Span.Slice(request.IdStart, request.IdLength);
        if (!outcome.IsSuccess)
        {
            result.Reset();
            output.Truncate(mark);
            int code = outcome.RefusedCode != 0 ? outcome.RefusedCode : RpcErrorCode.InvalidParams;
            Options.Observer?.OnCallCompleted(method, code, start);
            if (request.IsNotification)
            {
                return false;
            }

            if (outcome.RefusedCode != 0)
            {
                WriteRefused(output, outcome, rawId);
            }
            else
            {
                RpcErrors.WriteInvalidParams(output, outcome.Param!, outcome.Failure, rawId);
            }

            return true;
        }

        if (request.IsNotification)
        {
            result.Reset();
            output.Truncate(mark);
            Options.Observer?.OnCallCompleted(method, 0, start);
            return false;
        }

        try
        {
            result.Flush();
        }
        catch (Exception exception)
        {
            return Fail(method, exception, message, request, output, mark, start, cancellationToken, null);
        }

        RpcErrors.WriteIdAndClose(output, rawId);
        Options.Observer?.OnCallCompleted(method, 0, start);
        return true;
    }

    /// <summary>A handler threw: its own <see cref="RpcException"/> passes through, anything else is -32603.</summary>
    /// <remarks>
    /// A call ended by its own <paramref name="cancellationToken"/> (the client went away, or shutdown ran
    /// out of time) did not fail: it is answered like a failure but not reported as one (no stack in the log).
    /// </remarks>
    private bool Fail(RpcMethod method, Exception exception, ReadOnlyMemory<byte> message, in RpcRequest request, RpcResponseBuffer output, int mark, long start, CancellationToken cancellationToken, RpcCall? call)
    {
        output.Truncate(mark); // whatever part of a result was written goes
        ReadOnlySpan<byte> rawId = message.Span.Slice(request.IdStart, request.IdLength);
        bool cancelledByClient = call is not null && call.CancelledByClient;
        EndCall(call);
        int code;
        if (exception is RpcException rpcException)
        {
            code = rpcException.Code;
            if (!request.IsNotification)
            {
                RpcErrors.WriteApplicationError(output, rpcException, rawId);
            }
        }
        else if (exception is OperationCanceledException && cancelledByClient)
        {
            // Ended by the token $/cancelRequest cancelled (CONTRACT section 6).
            code = RpcErrorCode.RequestCancelled;
            RpcErrors.WriteRequestCancelled(output, rawId);
        }
        else if (exception is OperationCanceledException && _shuttingDown)
        {
            code = RpcErrorCode.ServerShuttingDown;
            if (!request.IsNotification)
            {
                RpcErrors.WriteServerShuttingDown(output, rawId);
            }
        }
        else
        {
            code = RpcErrorCode.InternalError;
            if (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Options.Observer?.OnHandlerFailed(method, exception);
            }

            if (!request.IsNotification)
            {
                RpcErrors.WriteInternalError(output, rawId);
            }
        }

        Options.Observer?.OnCallCompleted(method, code, start);
        return !request.IsNotification;
    }

    /// <summary>Writes the engine error a built-in refused its call with.</summary>
    private static void WriteRefused(RpcResponseBuffer output, in RpcInvokeResult outcome, ReadOnlySpan<byte> rawId)
    {
        switch (outcome.RefusedCode)
        {
            case RpcErrorCode.TooManySubscriptions:
                RpcErrors.WriteTooManySubscriptions(output, rawId);
                break;
            case RpcErrorCode.NotAvailableOverHttp:
                RpcErrors.WriteNotAvailableOverHttp(output, rawId);
                break;
            case RpcErrorCode.Forbidden:
                RpcErrors.WriteForbidden(output, outcome.RefusedDetail ?? string.Empty, rawId);
                break;
            case RpcErrorCode.InvalidRequest:
                RpcErrors.WriteInvalidRequest(output, rawId);
                break;
            default:
                RpcErrors.WriteServerShuttingDown(output, rawId);
                break;
        }
    }

    private bool TryFindMethod(ReadOnlySpan<byte> message, in RpcRequest request, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RpcMethod? method, out byte[]? unescapedName, out int unescapedLength)
    {
        unescapedName = null;
        unescapedLength = 0;
        if (!request.MethodIsEscaped)
        {
            return Methods.TryFind(message.Slice(request.MethodStart, request.MethodLength), out method);
        }

        // A name written with JSON escapes ("p\u0069ng") is unescaped before lookup; rare, so pooled.
        ReadOnlySpan<byte> token = message.Slice(request.MethodStart - 1, request.MethodLength + 2);
        var reader = new Utf8JsonReader(token);
        reader.Read();
        unescapedName = ArrayPool<byte>.Shared.Rent(request.MethodLength);
        bool decoded = JsonText.TryCopyString(ref reader, unescapedName, out unescapedLength); // false for "\ud800": no method has that name
        if (decoded && Methods.TryFind(unescapedName.AsSpan(0, unescapedLength), out method))
        {
            ArrayPool<byte>.Shared.Return(unescapedName);
            unescapedName = null;
            return true;
        }

        if (!decoded)
        {
            // The -32601 message then quotes the name as the client wrote it, escapes included.
            ArrayPool<byte>.Shared.Return(unescapedName);
            unescapedName = null;
            unescapedLength = 0;
        }

        method = null;
        return false;
    }
}
