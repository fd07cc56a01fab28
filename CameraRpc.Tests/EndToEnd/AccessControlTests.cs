using System.Net.WebSockets;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary><c>--auth-token</c> (401) and the Origin rule of <c>--allowed-origins</c> (403), against the executable.</summary>
[NonParallelizable]
public sealed class AccessControlTests
{
    private const string Token = "s3cret-token";

    [Test, CancelAfter(30_000)]
    public async Task with_an_auth_token_the_upgrade_needs_the_token_in_the_header_or_the_query(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--auth-token", Token);
        Uri uri = server.WebSocketUri;

        (await HttpExchange.UpgradeStatusAsync(uri, cancellationToken)).Should().Be(401, "an upgrade without the token is refused");
        (await HttpExchange.UpgradeStatusAsync(uri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer wrong")))
            .Should().Be(401, "an upgrade with a wrong token is refused");
        (await HttpExchange.UpgradeStatusAsync(new Uri(uri + "?access_token=wrong"), cancellationToken))
            .Should().Be(401, "a wrong token in the query is refused");
        (await HttpExchange.UpgradeStatusAsync(uri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + Token)))
            .Should().Be(101, "the bearer token in the Authorization header is accepted");
        (await HttpExchange.UpgradeStatusAsync(new Uri(uri + "?access_token=" + Token), cancellationToken))
            .Should().Be(101, "browsers cannot set headers on a WebSocket, so ?access_token= is accepted on the upgrade");
    }

    [Test, CancelAfter(30_000)]
    public async Task an_authorized_websocket_answers_calls(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--auth-token", Token);
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(
            server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + Token));

        (await client.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "an authorized connection is served");
    }

    [Test, CancelAfter(30_000)]
    public async Task with_an_auth_token_http_post_needs_the_header_and_refuses_the_query_token(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--auth-token", Token);

        HttpAnswer without = await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(1), cancellationToken);
        HttpAnswer withHeader = await HttpExchange.PostAsync(
            server.HttpUri(), RpcMessages.Ping(2), cancellationToken, new Dictionary<string, string> { ["Authorization"] = "Bearer " + Token });
        HttpAnswer withQuery = await HttpExchange.PostAsync(
            server.HttpUri("/ws?access_token=" + Token), RpcMessages.Ping(3), cancellationToken);

        without.Status.Should().Be(401, "a POST without the token is refused");
        without.Headers.WwwAuthenticate.ToString().Should().Contain("Bearer", "a 401 says which scheme to use");
        withHeader.Status.Should().Be(200, "a POST with the bearer header is served");
        withHeader.Body.Should().Be(RpcMessages.Pong(2), "the authorized call runs");
        withQuery.Status.Should().Be(401, "?access_token= is for browsers' WebSockets only; a POST can and must use the header");
    }

    [Test, CancelAfter(30_000)]
    public async Task health_and_metrics_need_no_token(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--auth-token", Token);

        (await HttpExchange.GetAsync(server.HttpUri("/healthz"), cancellationToken)).Status.Should().Be(200, "probes of the orchestrator carry no token");
        (await HttpExchange.GetAsync(server.HttpUri("/metrics"), cancellationToken)).Status.Should().Be(200, "the scraper carries no token");
    }

    [Test, CancelAfter(30_000)]
    public async Task by_default_no_origin_and_the_same_origin_are_allowed_and_a_foreign_origin_is_403(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        Uri uri = server.WebSocketUri;

        (await HttpExchange.UpgradeStatusAsync(uri, cancellationToken)).Should().Be(101, "a request without Origin is not from a browser");
        (await HttpExchange.UpgradeStatusAsync(uri, cancellationToken, o => o.SetRequestHeader("Origin", $"http://127.0.0.1:{server.Port}")))
            .Should().Be(101, "a page served by this host and port is the same origin");
        (await HttpExchange.UpgradeStatusAsync(uri, cancellationToken, o => o.SetRequestHeader("Origin", "https://evil.example")))
            .Should().Be(403, "a foreign Origin is refused by default: that blocks cross-site WebSocket hijacking");
        (await HttpExchange.UpgradeStatusAsync(uri, cancellationToken, o => o.SetRequestHeader("Origin", "http://127.0.0.1:1")))
            .Should().Be(403, "the same host on another port is another origin");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_listed_origin_is_allowed_and_an_unlisted_one_is_not(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--allowed-origins", "https://app.example,https://other.example");

        (await HttpExchange.UpgradeStatusAsync(server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Origin", "https://app.example")))
            .Should().Be(101, "https://app.example is listed");
        (await HttpExchange.UpgradeStatusAsync(server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Origin", "https://other.example")))
            .Should().Be(101, "https://other.example is listed");
        (await HttpExchange.UpgradeStatusAsync(server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Origin", "https://evil.example")))
            .Should().Be(403, "https://evil.example is not listed");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_star_allows_any_origin(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--allowed-origins", "*");

        (await HttpExchange.UpgradeStatusAsync(server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Origin", "https://evil.example")))
            .Should().Be(101, "* allows every origin");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_refused_upgrade_does_not_disturb_open_connections(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--auth-token", Token);
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(
            server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + Token));

        (await HttpExchange.UpgradeStatusAsync(server.WebSocketUri, cancellationToken)).Should().Be(401, "no token");

        (await client.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "the open connection is untouched");
        client.Socket.State.Should().Be(WebSocketState.Open, "nothing closed it");
    }
}
