using System.Net;
using System.Net.Sockets;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Tools;

/// <summary>
/// <c>call</c>, <c>probe</c> and <c>bench</c> as an operator runs them: the real executable in a child
/// process against a real server process started on <c>--port 0</c> (one server for the fixture), or
/// against a port where nothing listens. Exit codes and where each line goes are the contract (§1).
/// </summary>
[NonParallelizable]
public sealed partial class ToolProcessTests : SharedServerFixture
{
    /// <summary>The server's JSON-RPC URL over <paramref name="scheme"/> (<c>ws</c> or <c>http</c>).</summary>
    private string ServerUrl(string scheme) => $"{scheme}://127.0.0.1:{Server.Port}/ws";

    /// <summary>A URL on a port that was free a moment ago: connecting to it is refused.</summary>
    private static string RefusedUrl(string scheme)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"{scheme}://127.0.0.1:{port}/ws";
    }
}
