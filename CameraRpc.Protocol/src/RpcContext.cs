using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CameraRpc.Protocol;

/// <summary>
/// Where a pushed notification goes: the transport's writer for one connection.
/// </summary>
/// <remarks>
/// The sink takes ownership of the message it is given and returns it to the pool
/// (<see cref="RpcResponseBuffer.Return"/>) once sent or dropped. It must be safe to call from any
/// thread, concurrently with the connection's answers.
/// </remarks>
public interface IRpcNotificationSink
{
    ValueTask SendNotificationAsync(RpcResponseBuffer message, CancellationToken cancellationToken);
}

/// <summary>
/// The connection a call came from, as seen by a method: its id, the remote endpoint, a logger, and
/// <see cref="NotifyAsync(string, CancellationToken)"/> to push notifications to that client (how camera
/// events reach their subscribers). Add a parameter of this type to an <c>[RpcMethod]</c> method to get it;
/// clients never supply it.
/// </summary>
/// <remarks>
/// <para>One instance per connection (per request for HTTP), shared by all its calls; thread-safe.</para>
/// <para>Public is only what a method should have. The server's own handles (the dispatcher, and through
/// it the shutdown switch) are internal: a method cannot begin a shutdown. Only the server creates
/// contexts. A feature that gives methods more of the connection (its subscriptions, its token's name
/// and scopes, the real client address) adds its members in a partial file of its own
/// (<c>RpcContext.Feature.cs</c>), set by the server through an <c>internal init</c>.</para>
/// </remarks>
public sealed partial class RpcContext
{
    private readonly IRpcNotificationSink? _sink;

    /// <param name="dispatcher">The dispatcher serving the connection.</param>
    /// <param name="connectionId">A number unique to the connection within the process.</param>
    /// <param name="remoteEndPoint">The client's address, or null when unknown.</param>
    /// <param name="sink">Where notifications go; null when the transport cannot push (HTTP).</param>
    internal RpcContext(RpcDispatcher dispatcher, long connectionId, IPEndPoint? remoteEndPoint, IRpcNotificationSink? sink)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        Dispatcher = dispatcher;
        ConnectionId = connectionId;
        RemoteEndPoint = remoteEndPoint;
        _sink = sink;
    }

    /// <summary>The dispatcher serving the connection (the server's, not a method's).</summary>
    internal RpcDispatcher Dispatcher { get; }

    /// <summary>The methods this server has (for <c>rpc.discover</c>).</summary>
    internal RpcMethodTable Methods => Dispatcher.Methods;

    /// <summary>A number unique to the connection within the process.</summary>
    public long ConnectionId { get; }

    /// <summary>The client's address, or null when unknown.</summary>
    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>The server's log.</summary>
    public IRpcLogger Logger => Dispatcher.Options.Logger;

    /// <summary>True when this connection can receive pushed notifications (WebSocket); false over HTTP.</summary>
    public bool CanNotify => _sink is not null;

    /// <summary>Pushes <c>{"jsonrpc":"2.0","method":METHOD}</c> to the client.</summary>
    public ValueTask NotifyAsync(string method, CancellationToken cancellationToken = default)
    {
        RpcResponseBuffer message = Begin(method, out Utf8JsonWriter json);
        return Send(message, json, cancellationToken);
    }

    /// <summary>Pushes a notification whose <c>params</c> is <paramref name="params"/> (an array or object).</summary>
    public ValueTask NotifyAsync(string method, JsonElement @params, CancellationToken cancellationToken = default)
    {
        RpcResponseBuffer message = Begin(method, out Utf8JsonWriter json);
        json.WritePropertyName(JsonRpcNames.Params);
        @params.WriteTo(json);
        return Send(message, json, cancellationToken);
    }

    /// <summary>Pushes a notification whose <c>params</c> is <paramref name="params"/>, serialized with a source-generated <paramref name="typeInfo"/>.</summary>
    public ValueTask NotifyAsync<T>(string method, T @params, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        RpcResponseBuffer message = Begin(method, out Utf8JsonWriter json);
        json.WritePropertyName(JsonRpcNames.Params);
        JsonSerializer.Serialize(json, @params, typeInfo);
        return Send(message, json, cancellationToken);
    }

    private RpcResponseBuffer Begin(string method, out Utf8JsonWriter json)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        if (_sink is null)
        {
            throw new InvalidOperationException("This call came over HTTP, which cannot carry notifications to the client; use a WebSocket connection.");
        }

        RpcResponseBuffer message = RpcResponseBuffer.Rent();
        json = message.StartJsonValue();
        json.WriteStartObject();
        json.WriteString(JsonRpcNames.JsonRpc, JsonRpcNames.Version);
        json.WriteString(JsonRpcNames.Method, method);
        return message;
    }

    private ValueTask Send(RpcResponseBuffer message, Utf8JsonWriter json, CancellationToken cancellationToken)
    {
        json.WriteEndObject();
        json.Flush();
        return _sink!.SendNotificationAsync(message, cancellationToken);
    }
}
