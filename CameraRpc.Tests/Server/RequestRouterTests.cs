using System.Net;
using CameraRpc.Server.Endpoints;
using CameraRpc.Server.Hosting;
using CameraRpc.Server.Logging;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Server;

/// <summary>The routing table of CONTRACT section 2, without a listener: which endpoint or which refusal.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class RequestRouterTests
{
    private static readonly FakeEndpoint s_webSocket = new("websocket");
    private static readonly FakeEndpoint s_httpRpc = new("http-rpc");
    private static readonly FakeEndpoint s_health = new("health");
    private static readonly FakeEndpoint s_metrics = new("metrics");

    private static RequestRouter Router(string rpcPath = "/ws") =>
        new(rpcPath, s_webSocket, s_httpRpc, s_health, s_metrics, ServerLog.Disabled);

    [TestCase("/ws", "GET", true, "websocket", TestName = "a_get_with_an_upgrade_on_the_rpc_path_goes_to_the_websocket_endpoint")]
    [TestCase("/ws", "POST", false, "http-rpc", TestName = "a_post_on_the_rpc_path_goes_to_the_http_rpc_endpoint")]
    [TestCase("/ws", "POST", true, "http-rpc", TestName = "a_post_that_asks_for_an_upgrade_is_still_a_post")]
    [TestCase("/healthz", "GET", false, "health", TestName = "get_healthz_goes_to_the_health_endpoint")]
    [TestCase("/healthz", "HEAD", false, "health", TestName = "head_healthz_goes_to_the_health_endpoint")]
    [TestCase("/metrics", "GET", false, "metrics", TestName = "get_metrics_goes_to_the_metrics_endpoint")]
    [TestCase("/metrics", "HEAD", false, "metrics", TestName = "head_metrics_goes_to_the_metrics_endpoint")]
    public void each_path_and_method_reaches_its_endpoint(string path, string method, bool upgrade, string expected)
    {
        Route route = Router().Find(path, method, upgrade);

        route.Endpoint.Should().BeOfType<FakeEndpoint>().Which.Name.Should().Be(expected, $"{method} {path} is that endpoint's (CONTRACT section 2)");
    }

    [Test]
    public void a_get_on_the_rpc_path_without_an_upgrade_is_426()
    {
        Route route = Router().Find("/ws", "GET", upgrade: false);

        route.Endpoint.Should().BeNull();
        route.Status.Should().Be(426, "a browser that opens the WebSocket URL as a page is told to upgrade");
    }

    [TestCase("PUT")]
    [TestCase("DELETE")]
    [TestCase("HEAD")]
    [TestCase("OPTIONS")]
    public void any_other_method_on_the_rpc_path_is_405_allowing_get_and_post(string method)
    {
        Route route = Router().Find("/ws", method, upgrade: false);

        route.Status.Should().Be(405, "only GET (upgrade) and POST are served on the JSON-RPC path");
        route.Allow.Should().Be("GET, POST", "the Allow header names what is served");
    }

    [TestCase("/healthz", "POST")]
    [TestCase("/metrics", "PUT")]
    public void a_write_method_on_a_read_only_endpoint_is_405_allowing_get(string path, string method)
    {
        Route route = Router().Find(path, method, upgrade: false);

        route.Status.Should().Be(405);
        route.Allow.Should().Be("GET");
    }

    [TestCase("/")]
    [TestCase("/ws/")]
    [TestCase("/WS")]
    [TestCase("/healthz/x")]
    [TestCase("/favicon.ico")]
    public void any_other_path_is_404(string path)
    {
        Route route = Router().Find(path, "GET", upgrade: true);

        route.Endpoint.Should().BeNull();
        route.Status.Should().Be(404, "paths are matched exactly, case included");
    }

    [Test]
    public void the_rpc_path_is_the_one_given_by_the_path_option()
    {
        RequestRouter router = Router("/rpc");

        router.Find("/rpc", "POST", upgrade: false).Endpoint.Should().BeSameAs(s_httpRpc);
        router.Find("/ws", "POST", upgrade: false).Status.Should().Be(404, "/ws is only the default --path");
    }

    [Test]
    public void an_rpc_path_that_shadows_a_fixed_path_wins()
    {
        RequestRouter router = Router("/healthz");

        router.Find("/healthz", "POST", upgrade: false).Endpoint.Should().BeSameAs(s_httpRpc, "--path is matched first, whatever it is");
    }

    private sealed class FakeEndpoint(string name) : IHttpEndpoint
    {
        public string Name { get; } = name;

        public Task HandleAsync(HttpListenerContext context) => Task.CompletedTask;
    }
}
