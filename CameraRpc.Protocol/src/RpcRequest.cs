namespace CameraRpc.Protocol;

/// <summary>
/// One request object as parsed by <see cref="RpcEnvelopeReader"/>: offsets into the message it came
/// from, never copies. The <c>id</c> and <c>params</c> stay raw JSON until they are echoed or bound.
/// </summary>
internal readonly struct RpcRequest
{
    public RpcRequest(
        bool isValid,
        int methodStart, int methodLength, bool methodIsEscaped,
        int idStart, int idLength,
        int paramsStart, int paramsLength, RpcParamsKind paramsKind)
    {
        IsValid = isValid;
        MethodStart = methodStart;
        MethodLength = methodLength;
        MethodIsEscaped = methodIsEscaped;
        IdStart = idStart;
        IdLength = idLength;
        ParamsStart = paramsStart;
        ParamsLength = paramsLength;
        ParamsKind = paramsKind;
    }

    /// <summary>False when the object is not a valid request (-32600).</summary>
    public bool IsValid { get; }

    /// <summary>Start of the method name's raw string contents (inside the quotes).</summary>
    public int MethodStart { get; }

    public int MethodLength { get; }

    /// <summary>True when the method name holds JSON escapes and must be unescaped before lookup.</summary>
    public bool MethodIsEscaped { get; }

    /// <summary>Start of the id's raw JSON token (quotes included for a string).</summary>
    public int IdStart { get; }

    /// <summary>Length of the id's raw token; 0 when there is no usable id.</summary>
    public int IdLength { get; }

    /// <summary>True when the request has no <c>id</c> member: a notification, never answered.</summary>
    public bool IsNotification => IsValid && IdLength == 0;

    public int ParamsStart { get; }

    public int ParamsLength { get; }

    public RpcParamsKind ParamsKind { get; }
}
