namespace CameraRpc.Protocol;

/// <summary>
/// Marks a static method as a JSON-RPC method. The CameraRpc source generator finds every such
/// method at compile time and puts it in the assembly's generated method table
/// (<c>GeneratedRpcMethods.Table</c> in the assembly's root namespace).
/// </summary>
/// <remarks>
/// Parameters are bound from <c>params</c> by position or by name; a parameter with a C# default
/// is optional. A <see cref="CancellationToken"/> or <see cref="RpcContext"/> parameter is
/// supplied by the server and never by the client. The method may be synchronous or return
/// <see cref="Task"/>, <see cref="Task{TResult}"/>, <see cref="ValueTask"/> or
/// <see cref="ValueTask{TResult}"/>. Mistakes in the signature are compile-time diagnostics (CRPC ids).
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class RpcMethodAttribute : Attribute
{
    /// <param name="name">The JSON-RPC method name clients call, e.g. <c>"camera.setExposure"</c>.</param>
    public RpcMethodAttribute(string name) => Name = name;

    /// <summary>The JSON-RPC method name clients call.</summary>
    public string Name { get; }

    /// <summary>One line for the OpenRPC document served by <c>rpc.discover</c>.</summary>
    public string? Summary { get; set; }

    /// <summary>
    /// The scope a token needs to call the method (e.g. <c>"camera.write"</c>); a token without it gets
    /// -32001. Null (the default): open to every valid token. Shown as <c>"x-scope"</c> by <c>rpc.discover</c>.
    /// </summary>
    public string? Scope { get; set; }

    /// <summary>How many calls one call counts as against the rate limits (default 1, at least 1).</summary>
    public int Cost { get; set; } = 1;
}

/// <summary>
/// Names the <see cref="System.Text.Json.Serialization.JsonSerializerContext"/> that binds and
/// writes the types of a class's <see cref="RpcMethodAttribute"/> methods beyond primitives,
/// strings, enums, arrays and <see cref="System.Text.Json.JsonElement"/>.
/// </summary>
/// <remarks>Put it on the class that holds the methods, or on the assembly for all of them.</remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Assembly, AllowMultiple = false, Inherited = false)]
public sealed class RpcJsonContextAttribute : Attribute
{
    /// <param name="contextType">A class deriving from <c>JsonSerializerContext</c> with a static <c>Default</c> instance.</param>
    public RpcJsonContextAttribute(Type contextType) => ContextType = contextType;

    /// <summary>The source-generated serializer context type.</summary>
    public Type ContextType { get; }
}
