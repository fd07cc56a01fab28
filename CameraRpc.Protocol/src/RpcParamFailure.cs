namespace CameraRpc.Protocol;

/// <summary>Why a parameter did not bind; sent as <c>error.data.reason</c> of a -32602 answer.</summary>
public enum RpcParamFailure
{
    /// <summary>A required parameter was not given.</summary>
    Missing,

    /// <summary>A parameter was given that the method does not have (an unknown name, a position past the last, or a name given twice).</summary>
    Unexpected,

    /// <summary>A parameter's JSON value does not convert to its C# type.</summary>
    Type,

    /// <summary>A parameter names something the server does not have (an unknown topic for <c>rpc.subscribe</c>).</summary>
    Unknown,
}
