using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// What a generated invoker receives for one call: the raw <c>params</c>, the writer for the result
/// value, and the server-supplied context and cancellation token.
/// </summary>
/// <remarks>
/// The invoker binds the parameters (with <see cref="RpcParamsReader"/>), calls the method, and
/// writes exactly one JSON value to <see cref="Result"/>, or writes nothing and returns an
/// invalid-params outcome. It may finish asynchronously; the engine does not touch the writer until
/// the returned task completes.
/// </remarks>
public readonly struct RpcInvocation
{
    internal RpcInvocation(ReadOnlyMemory<byte> @params, RpcParamsKind paramsKind, Utf8JsonWriter result, RpcContext context, CancellationToken cancellationToken)
    {
        Params = @params;
        ParamsKind = paramsKind;
        Result = result;
        Context = context;
        CancellationToken = cancellationToken;
    }

    /// <summary>The raw JSON of <c>params</c> (an array or an object), empty when absent.</summary>
    public ReadOnlyMemory<byte> Params { get; }

    /// <summary>Whether <see cref="Params"/> is absent, positional or named.</summary>
    public RpcParamsKind ParamsKind { get; }

    /// <summary>Where the result value is written (one root JSON value).</summary>
    public Utf8JsonWriter Result { get; }

    /// <summary>The connection the call came from.</summary>
    public RpcContext Context { get; }

    /// <summary>Cancelled when the client disconnects or shutdown runs out of time (or, for a topic, when its subscription ends).</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The buffer the answer goes into (for <c>rpc.subscribe</c>, which holds its subscription back until the answer is queued).</summary>
    internal RpcResponseBuffer? Output { get; init; }

    /// <summary>True for a notification, whose answer is never sent.</summary>
    internal bool IsNotification { get; init; }

    /// <summary>The subscription a topic opener is opening; null for a method call.</summary>
    internal RpcSubscription? Subscription { get; init; }
}

/// <summary>
/// How an invocation ended when it did not throw: success (the result was written) or a parameter
/// that did not bind (nothing was written).
/// </summary>
public readonly struct RpcInvokeResult
{
    private RpcInvokeResult(string? param, RpcParamFailure failure, int refusedCode = 0, string? refusedDetail = null)
    {
        Param = param;
        Failure = failure;
        RefusedCode = refusedCode;
        RefusedDetail = refusedDetail;
    }

    /// <summary>The result value was written.</summary>
    public static RpcInvokeResult Success => default;

    /// <summary>True when the result value was written.</summary>
    public bool IsSuccess => Param is null && RefusedCode == 0;

    /// <summary>The parameter that did not bind (its C# name, the client's name, or <c>[position]</c>).</summary>
    public string? Param { get; }

    /// <summary>Why it did not bind.</summary>
    public RpcParamFailure Failure { get; }

    /// <summary>A parameter did not bind; the client gets -32602 with <c>data</c> naming it.</summary>
    public static RpcInvokeResult InvalidParams(string param, RpcParamFailure failure) => new(param, failure);

    /// <summary>
    /// For the engine's built-ins: the call is answered with the engine's own error <paramref name="code"/>
    /// (written by <see cref="RpcErrors"/>; nothing was written to the result).
    /// </summary>
    internal static RpcInvokeResult Refused(int code, string? detail = null) => new(null, default, code, detail);

    /// <summary>What the refusal names (the scope of a -32001).</summary>
    internal string? RefusedDetail { get; }

    /// <summary>The engine error the call is answered with, or 0.</summary>
    internal int RefusedCode { get; }
}

/// <summary>A generated method invoker: binds, calls, writes the result.</summary>
public delegate ValueTask<RpcInvokeResult> RpcMethodInvoker(RpcInvocation invocation);
