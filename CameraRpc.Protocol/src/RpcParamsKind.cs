namespace CameraRpc.Protocol;

/// <summary>How a call gave its parameters.</summary>
public enum RpcParamsKind : byte
{
    /// <summary>No <c>params</c> member.</summary>
    None,

    /// <summary><c>params</c> is an array: parameters by position.</summary>
    ByPosition,

    /// <summary><c>params</c> is an object: parameters by name.</summary>
    ByName,
}
