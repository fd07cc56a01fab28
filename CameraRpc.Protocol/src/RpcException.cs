using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// Thrown by a method handler to answer with its own JSON-RPC error. The client receives exactly
/// <see cref="Code"/>, <see cref="Exception.Message"/> and <see cref="ErrorData"/>; nothing else of the exception.
/// </summary>
/// <remarks>
/// Application codes should lie outside -32768..-32000, which the specification reserves; the
/// engine passes any code through unchanged so that a handler can also report e.g. -32602 itself.
/// </remarks>
public sealed class RpcException : Exception
{
    /// <param name="code">The error code sent to the client.</param>
    /// <param name="message">The error message sent to the client.</param>
    public RpcException(int code, string message)
        : base(message) => Code = code;

    /// <param name="code">The error code sent to the client.</param>
    /// <param name="message">The error message sent to the client.</param>
    /// <param name="data">The <c>error.data</c> value sent to the client.</param>
    public RpcException(int code, string message, JsonElement data)
        : base(message)
    {
        Code = code;
        ErrorData = data;
    }

    /// <summary>The error code sent to the client.</summary>
    public int Code { get; }

    /// <summary>
    /// The <c>error.data</c> value, or <c>null</c> for none. (Not <c>Data</c>: that name is
    /// <see cref="Exception.Data"/>, the exception's own dictionary, which never reaches the client.)
    /// </summary>
    public JsonElement? ErrorData { get; }
}
