namespace CameraRpc.Protocol;

public sealed partial class RpcContext
{
    /// <summary>The access step the engine asks before each call (scopes, rate limits); null when the server checks nothing.</summary>
    internal IRpcCallAdmission? Admission { get; init; }

    /// <summary>True when the caller's token holds <paramref name="scope"/>, or when the server checks no scopes.</summary>
    /// <remarks>The engine checks a method's declared scope itself; this is for topics and finer checks inside a method.</remarks>
    public bool HasScope(string scope) => Admission?.HasScope(scope) ?? true;
}
