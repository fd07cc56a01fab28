namespace CameraRpc.Protocol;

/// <summary>The UTF-8 member names and constants of the JSON-RPC 2.0 envelope.</summary>
internal static class JsonRpcNames
{
    public static ReadOnlySpan<byte> JsonRpc => "jsonrpc"u8;
    public static ReadOnlySpan<byte> Version => "2.0"u8;
    public static ReadOnlySpan<byte> Method => "method"u8;
    public static ReadOnlySpan<byte> Params => "params"u8;
    public static ReadOnlySpan<byte> Id => "id"u8;
    public static ReadOnlySpan<byte> Result => "result"u8;
    public static ReadOnlySpan<byte> Error => "error"u8;
    public static ReadOnlySpan<byte> Code => "code"u8;
    public static ReadOnlySpan<byte> Message => "message"u8;
    public static ReadOnlySpan<byte> Data => "data"u8;
    public static ReadOnlySpan<byte> Null => "null"u8;

    /// <summary>What every answer starts with, written raw so that no writer state is needed.</summary>
    public static ReadOnlySpan<byte> ResultPrefix => "{\"jsonrpc\":\"2.0\",\"result\":"u8;

    /// <summary>Between the result (or error) value and the echoed id.</summary>
    public static ReadOnlySpan<byte> IdInfix => ",\"id\":"u8;
}
