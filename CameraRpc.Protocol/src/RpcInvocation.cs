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

    /// <summary>Cancelled when the client disconnects or shutdown runs out of time.</summary>
    public CancellationToken CancellationToken { get; }
}

/// <summary>
/// How an invocation ended when it did not throw: success (the result was written) or a parameter
/// that did not bind (nothing was written).
/// </summary>
public readonly struct RpcInvokeResult
{
    private RpcInvokeResult(string param, RpcParamFailure failure)
    {
        Param = param;
        Failure = failure;
    }

    /// <summary>The result value was written.</summary>
    public static RpcInvokeResult Success => default;

    /// <summary>True when the result value was written.</summary>
    public bool IsSuccess => Param is null;

    /// <summary>The parameter that did not bind (its C# name, the client's name, or <c>[position]</c>).</summary>
    public string? Param { get; }

    /// <summary>Why it did not bind.</summary>
    public RpcParamFailure Failure { get; }

    /// <summary>A parameter did not bind; the client gets -32602 with <c>data</c> naming it.</summary>
    public static RpcInvokeResult InvalidParams(string param, RpcParamFailure failure) => new(param, failure);
}

/// <summary>A generated method invoker: binds, calls, writes the result.</summary>
public delegate ValueTask<RpcInvokeResult> RpcMethodInvoker(RpcInvocation invocation);
