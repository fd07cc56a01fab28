using System.ComponentModel;

namespace CameraRpc.Protocol;

/// <summary>
/// The JSON-RPC method names of an assembly's generated method table. The source generator writes it
/// on every assembly that has <see cref="RpcMethodAttribute"/> methods, and reads it from the
/// assemblies a project references: a method named like one of theirs would collide when the tables
/// are combined (a server combines its own with <c>BuiltInRpcMethods.Table</c>), so it is a
/// compile-time error (CRPC002) instead of an exception when the server starts.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false, Inherited = false)]
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcMethodNamesAttribute : Attribute
{
    /// <param name="names">The names of the assembly's methods.</param>
    public RpcMethodNamesAttribute(params string[] names) => Names = names;

    /// <summary>The names of the assembly's methods.</summary>
    public IReadOnlyList<string> Names { get; }
}
