namespace CameraRpc.Protocol;

/// <summary>
/// The error codes the engine itself produces (JSON-RPC 2.0 specification, section 5.1, and
/// CONTRACT section 3). Their messages live in <see cref="RpcErrors"/> and nowhere else.
/// </summary>
public static class RpcErrorCode
{
    /// <summary>Invalid JSON was received (the id of the answer is <c>null</c>).</summary>
    public const int ParseError = -32700;

    /// <summary>The JSON is not a valid request object, or a batch is over the limit.</summary>
    public const int InvalidRequest = -32600;

    /// <summary>The method does not exist.</summary>
    public const int MethodNotFound = -32601;

    /// <summary>Missing, extra or mistyped parameters.</summary>
    public const int InvalidParams = -32602;

    /// <summary>A handler threw an exception other than <see cref="RpcException"/>.</summary>
    public const int InternalError = -32603;

    /// <summary>A call arrived while the server was shutting down.</summary>
    public const int ServerShuttingDown = -32000;
}
