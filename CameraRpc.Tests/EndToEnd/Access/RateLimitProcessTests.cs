using System.Net.WebSockets;
using CameraRpc.Server.Security;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd.Access;

/// <summary>
/// The rate limits against the real executable, at their exact edges. The server's rate-limit clock is
/// frozen with the test-only <see cref="AccessControl.FrozenClockVariable"/>, so no bucket refills during
/// a test: the N-th call passes and the next is refused whatever the machine's speed.
/// </summary>
[NonParallelizable]
public sealed class RateLimitProcessTests
{
    private static readonly Dictionary<string, string> s_frozenClock = new() { [AccessControl.FrozenClockVariable] = "1" };

    private static Task<ServerProcess> StartAsync(CancellationToken cancellationToken, params string[] args) =>
        ServerProcess.StartAsync(args, s_frozenClock, cancellationToken);

    private static async Task<long> RateLimitedAsync(ServerProcess server, string limit, CancellationToken cancellationToken)
    {
        string metrics = (await HttpExchange.GetAsync(server.HttpUri("/metrics"), cancellationToken)).Body;
        string line = metrics.Split('\n').Single(l => l.StartsWith($"camerarpc_rate_limited_total{{limit=\"{limit}\"}} ", StringComparison.Ordinal));
        return long.Parse(line[(line.LastIndexOf(' ') + 1)..]);
    }

    [Test, CancelAfter(30_000)]
    public async Task the_nth_call_of_a_connection_passes_and_the_next_gets_32005_with_retry_after_and_the_connection_stays(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await StartAsync(cancellationToken, "--rate-limit", "4");
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        for (int i = 0; i < 3; i++)
        {
            await client.SendAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":99}}""", cancellationToken); // never counts
        }

        for (int i = 1; i <= 4; i++)
        {
            (await client.CallAsync(RpcMessages.Ping(i), cancellationToken)).Should().Be(RpcMessages.Pong(i), $"call {i} of a burst of 4 (the three cancels before them did not count)");
        }

        (await client.CallAsync(RpcMessages.Ping(5), cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","error":{"code":-32005,"message":"Rate limit exceeded","data":{"retryAfterMs":250}},"id":5}""");

        await using RpcTestClient other = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (await other.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "--rate-limit is per connection");
        client.Socket.State.Should().Be(WebSocketState.Open);
        (await RateLimitedAsync(server, "connection", cancellationToken)).Should().Be(1);
    }

    [Test, CancelAfter(30_000)]
    public async Task a_batch_counts_as_its_calls_and_the_calls_over_the_limit_are_refused_one_by_one(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await StartAsync(cancellationToken, "--rate-limit", "2");
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (await client.CallAsync($"[{RpcMessages.Ping(1)},{RpcMessages.Ping(2)},{RpcMessages.Ping(3)}]", cancellationToken))
            .Should().Be("[" + RpcMessages.Pong(1) + "," + RpcMessages.Pong(2) + """,{"jsonrpc":"2.0","error":{"code":-32005,"message":"Rate limit exceeded","data":{"retryAfterMs":500}},"id":3}]""");
    }

    [Test, CancelAfter(30_000)]
    public async Task the_per_address_limit_spans_connections_and_http_and_a_post_that_does_not_fit_is_429_as_a_whole(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await StartAsync(cancellationToken, "--rate-limit-per-address", "3");
        await using RpcTestClient first = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient second = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (await first.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1));

        HttpAnswer tooBig = await HttpExchange.PostAsync(server.HttpUri(), $"[{RpcMessages.Ping(2)},{RpcMessages.Ping(3)},{RpcMessages.Ping(4)}]", cancellationToken);
        tooBig.Status.Should().Be(429, "three calls do not fit the two left: the POST is refused as a whole");
        tooBig.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1), "Retry-After is whole seconds, at least 1");

        HttpAnswer fits = await HttpExchange.PostAsync(server.HttpUri(), $"[{RpcMessages.Ping(2)},{RpcMessages.Ping(3)}]", cancellationToken);
        fits.Status.Should().Be(200, "the second and third calls of the address");
        (await second.CallAsync(RpcMessages.Ping(4), cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","error":{"code":-32005,"message":"Rate limit exceeded","data":{"retryAfterMs":334}},"id":4}""", "the fourth call of the address, on another connection");
        (await RateLimitedAsync(server, "address", cancellationToken)).Should().Be(2);
    }

    [Test, CancelAfter(30_000)]
    public async Task the_nth_upgrade_of_an_address_passes_and_the_next_is_429(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await StartAsync(cancellationToken, "--connect-rate-limit", "2");
        (await HttpExchange.UpgradeStatusAsync(server.WebSocketUri, cancellationToken)).Should().Be(101);
        (await HttpExchange.UpgradeStatusAsync(server.WebSocketUri, cancellationToken)).Should().Be(101);
        (await HttpExchange.UpgradeStatusAsync(server.WebSocketUri, cancellationToken)).Should().Be(429, "the third upgrade of the address in the same instant");

        using var http = new HttpClient();
        using var upgrade = new HttpRequestMessage(HttpMethod.Get, server.HttpUri());
        upgrade.Headers.Add("Connection", "Upgrade");
        upgrade.Headers.Add("Upgrade", "websocket");
        upgrade.Headers.Add("Sec-WebSocket-Version", "13");
        upgrade.Headers.Add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        using HttpResponseMessage refused = await http.SendAsync(upgrade, cancellationToken);
        ((int)refused.StatusCode).Should().Be(429);
        refused.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(1), cancellationToken)).Status.Should().Be(200, "the upgrade limit does not limit calls");
        (await RateLimitedAsync(server, "connect", cancellationToken)).Should().Be(2);
    }
}
