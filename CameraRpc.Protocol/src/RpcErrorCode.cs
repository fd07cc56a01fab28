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

    /// <summary>The connection's token lacks the scope the method or topic needs (CONTRACT section 8).</summary>
    public const int Forbidden = -32001;

    /// <summary>The method needs a WebSocket (<c>rpc.subscribe</c> sent by HTTP POST).</summary>
    public const int NotAvailableOverHttp = -32004;

    /// <summary>The call is over a rate limit and did not run (CONTRACT section 8).</summary>
    public const int RateLimitExceeded = -32005;

    /// <summary>The connection already holds <c>--max-subscriptions</c> subscriptions.</summary>
    public const int TooManySubscriptions = -32006;

    /// <summary>The call was cancelled by <c>$/cancelRequest</c> (the LSP code).</summary>
    public const int RequestCancelled = -32800;
}
