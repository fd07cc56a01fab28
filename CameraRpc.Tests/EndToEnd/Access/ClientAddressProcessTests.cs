using CameraRpc.Server.Security;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd.Access;

/// <summary>
/// The real client address against the executable (contract section 8): forwarding headers count only
/// from <c>--trusted-proxies</c>, in the log and in the per-address limits.
/// </summary>
[NonParallelizable]
public sealed class ClientAddressProcessTests
{
    private static readonly Dictionary<string, string> s_frozenClock = new() { [AccessControl.FrozenClockVariable] = "1" };

    private static Dictionary<string, string> ForwardedFor(string value) => new() { ["X-Forwarded-For"] = value };

    [Test, CancelAfter(30_000)]
    public async Task spoofed_forwarding_headers_from_an_untrusted_address_are_ignored(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(
            ["--trusted-proxies", "10.0.0.0/8", "--rate-limit-per-address", "1"], s_frozenClock, cancellationToken);

        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(1), cancellationToken, ForwardedFor("203.0.113.1"))).Status.Should().Be(200);
        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(2), cancellationToken, new Dictionary<string, string> { ["X-Forwarded-For"] = "203.0.113.2", ["X-Real-IP"] = "203.0.113.3" }))
            .Status.Should().Be(429, "127.0.0.1 is not a trusted proxy: a new X-Forwarded-For does not make a new client");

        string received = await server.WaitForLineAsync(line => line.Contains("Received from ", StringComparison.Ordinal), cancellationToken);
        received.Should().Contain("Received from 127.0.0.1:");
        server.Lines.Should().NotContain(line => line.Contains("203.0.113.", StringComparison.Ordinal), "the spoofed addresses reach nothing");
    }

    [Test, CancelAfter(30_000)]
    public async Task behind_a_trusted_proxy_the_forwarded_client_is_logged_and_limited_on_its_own(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(
            ["--trusted-proxies", "127.0.0.1", "--rate-limit-per-address", "1"], s_frozenClock, cancellationToken);

        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(1), cancellationToken, ForwardedFor("198.51.100.7, 203.0.113.1"))).Status.Should().Be(200);
        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(2), cancellationToken, ForwardedFor("203.0.113.1"))).Status.Should().Be(429, "the same client again");
        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(3), cancellationToken, ForwardedFor("203.0.113.2"))).Status.Should().Be(200, "another client behind the same proxy has its own bucket");
        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(4), cancellationToken, new Dictionary<string, string> { ["X-Real-IP"] = "203.0.113.3" })).Status.Should().Be(200, "X-Real-IP names the client when there is no X-Forwarded-For");

        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("X-Forwarded-For", "203.0.113.9"));
        (await client.CallAsync(RpcMessages.Ping(5), cancellationToken)).Should().Be(RpcMessages.Pong(5));
        await server.WaitForLineAsync(line => line.Contains("Client connected: 203.0.113.9 via 127.0.0.1:", StringComparison.Ordinal), cancellationToken);
        server.Lines.Should().Contain(line => line.Contains("Received from 203.0.113.1 via 127.0.0.1:", StringComparison.Ordinal), "the rightmost address that is not a trusted proxy");
        server.Lines.Should().NotContain(line => line.Contains("198.51.100.7", StringComparison.Ordinal), "what the client wrote left of it proves nothing");
    }

    [Test, CancelAfter(120_000)]
    public async Task a_flood_of_distinct_forwarded_addresses_is_served_and_the_regular_clients_limit_holds(CancellationToken cancellationToken)
    {
        // The table's bound itself (16,384 entries of at most 320 bytes) is measured in AddressRateTableTests;
        // here the executable takes a flood of distinct addresses and keeps limiting a known client.
        await using ServerProcess server = await ServerProcess.StartAsync(
            ["--trusted-proxies", "127.0.0.1", "--rate-limit-per-address", "1"], s_frozenClock, cancellationToken);
        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(1), cancellationToken, ForwardedFor("203.0.113.1"))).Status.Should().Be(200);

        for (int i = 0; i < 1_000; i++)
        {
            (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(i), cancellationToken, ForwardedFor($"10.0.{i >> 8}.{i & 255}")))
                .Status.Should().Be(200, "each new address has a full bucket");
        }

        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(2), cancellationToken, ForwardedFor("203.0.113.1")))
            .Status.Should().Be(429, "well under the table's capacity, the known client's bucket is kept");
    }
}
