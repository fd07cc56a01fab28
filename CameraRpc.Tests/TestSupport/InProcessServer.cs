using CameraRpc.Protocol;
using CameraRpc.Server.Configuration;
using CameraRpc.Server.Hosting;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Metrics;

namespace CameraRpc.Tests.TestSupport;

/// <summary>
/// The server hosted in the test process (<see cref="RpcHost"/>) on 127.0.0.1 and a free port, with the
/// built-in methods plus this test project's generated methods (Generator/TestMethods and EndToEnd
/// fixtures), for tests that need methods of their own, such as server push.
/// </summary>
public sealed class InProcessServer : IAsyncDisposable
{
    private InProcessServer(RpcHost server, ServerMetrics metrics)
    {
        Server = server;
        Metrics = metrics;
    }

    internal RpcHost Server { get; }

    internal ServerMetrics Metrics { get; }

    public int Port => Server.Port;

    public Uri WebSocketUri => new($"ws://127.0.0.1:{Port}/ws");

    public Uri HttpUri(string path = "/ws") => new($"http://127.0.0.1:{Port}{path}");

    /// <summary>Starts a server; <paramref name="configure"/> adjusts the options (host and port are fixed).</summary>
    internal static InProcessServer Start(Func<ServerOptions, ServerOptions>? configure = null)
    {
        ServerOptions options = ServerOptions.Default with { Host = "127.0.0.1", Port = 0, LogFile = null };
        if (configure is not null)
        {
            options = configure(options) with { Host = "127.0.0.1", Port = 0 };
        }

        var metrics = new ServerMetrics();
        RpcMethodTable methods = RpcMethodTable.Combine(BuiltInRpcMethods.Table, GeneratedRpcMethods.Table);
        var server = new RpcHost(options, methods, ServerLog.Disabled, metrics);
        server.Start();
        return new InProcessServer(server, metrics);
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
