namespace CameraRpc.Protocol;

/// <summary>
/// A JSON value kept as its raw UTF-8 bytes. As a parameter type it binds any JSON value without
/// parsing or copying it; as a result type it is written to the answer byte for byte.
/// </summary>
/// <remarks>
/// A bound parameter points into the inbound message, which is reused once the call's answer is
/// written: keep <see cref="Utf8Json"/> only for the duration of the call (copy it with
/// <c>ToArray()</c> to keep it longer). A value made by user code is validated when written.
/// </remarks>
public readonly struct RpcRawJson
{
    /// <summary>Wraps UTF-8 JSON text; it is validated when the answer is written.</summary>
    public RpcRawJson(ReadOnlyMemory<byte> utf8Json)
        : this(utf8Json, trusted: false)
    {
    }

    internal RpcRawJson(ReadOnlyMemory<byte> utf8Json, bool trusted)
    {
        Utf8Json = utf8Json;
        IsTrusted = trusted;
    }

    /// <summary>The JSON text as UTF-8 bytes.</summary>
    public ReadOnlyMemory<byte> Utf8Json { get; }

    /// <summary>True when the bytes were already validated by the engine's reader.</summary>
    internal bool IsTrusted { get; }

    /// <summary>The JSON <c>null</c> literal.</summary>
    public static RpcRawJson Null { get; } = new("null"u8.ToArray(), trusted: true);

    /// <inheritdoc />
    public override string ToString() => System.Text.Encoding.UTF8.GetString(Utf8Json.Span);
}
