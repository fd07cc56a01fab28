using System.Text;

namespace CameraRpc.Protocol;

/// <summary>One entry of a method table: the name clients call, its invoker and its OpenRPC description.</summary>
/// <remarks>Instances are made by generated code, once, at type initialisation; they are immutable.</remarks>
public sealed class RpcMethod
{
    /// <param name="name">The JSON-RPC method name.</param>
    /// <param name="invoker">Binds the parameters, calls the method and writes its result.</param>
    /// <param name="openRpcDescriptor">The OpenRPC Method Object for <c>rpc.discover</c>, as JSON text.</param>
    /// <param name="scope">The scope a token needs to call the method; null when open to every valid token.</param>
    /// <param name="cost">How many calls one call counts as against rate limits; at least 1.</param>
    public RpcMethod(string name, RpcMethodInvoker invoker, string openRpcDescriptor, string? scope = null, int cost = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(invoker);
        ArgumentNullException.ThrowIfNull(openRpcDescriptor);
        if (scope is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(cost, 1);
        Scope = scope;
        Cost = cost;
        Name = name;
        Utf8Name = Encoding.UTF8.GetBytes(name);
        Invoker = invoker;
        OpenRpcDescriptor = Encoding.UTF8.GetBytes(openRpcDescriptor);
    }

    /// <summary>The JSON-RPC method name.</summary>
    public string Name { get; }

    /// <summary>The name as UTF-8, which is what lookups compare.</summary>
    public ReadOnlyMemory<byte> Utf8Name { get; }

    /// <summary>Binds the parameters, calls the method and writes its result.</summary>
    public RpcMethodInvoker Invoker { get; }

    /// <summary>The scope a token needs to call the method (-32001 without it); null when open to every valid token.</summary>
    public string? Scope { get; }

    /// <summary>How many calls one call counts as against the rate limits (1 unless declared).</summary>
    public int Cost { get; }

    /// <summary>The OpenRPC Method Object as UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> OpenRpcDescriptor { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}
