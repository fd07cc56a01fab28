using System.Net;
using CameraRpc.Server.Security;

namespace CameraRpc.Tests.Server.Security;

/// <summary>The real client address behind trusted proxies (contract §8).</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class ClientAddressResolverTests
{
    private static readonly ClientAddressResolver s_behindProxies = new(
        [IPNetwork.Parse("127.0.0.1/32"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("2001:db8::/32")]);

    private static string Resolve(string peer, string? forwardedFor, string? realIp = null) =>
        s_behindProxies.Resolve(IPAddress.Parse(peer), forwardedFor, realIp).ToString();

    [Test]
    public void without_trusted_proxies_the_headers_are_ignored()
    {
        new ClientAddressResolver([]).Resolve(IPAddress.Loopback, "203.0.113.7", "203.0.113.8").ToString().Should().Be("127.0.0.1");
    }

    [Test]
    public void from_an_untrusted_peer_a_spoofed_header_is_ignored()
    {
        Resolve("198.51.100.9", "203.0.113.7", "203.0.113.8").Should().Be("198.51.100.9", "anyone can send X-Forwarded-For");
    }

    [Test]
    public void the_rightmost_address_that_is_not_a_trusted_proxy_is_the_client()
    {
        Resolve("127.0.0.1", "203.0.113.7").Should().Be("203.0.113.7");
        Resolve("127.0.0.1", "1.1.1.1, 203.0.113.7, 10.1.2.3").Should().Be("203.0.113.7", "10.1.2.3 is a trusted proxy; 1.1.1.1 was written by the client and proves nothing");
        Resolve("127.0.0.1", "10.0.0.5,10.0.0.6").Should().Be("10.0.0.5", "every hop trusted: the leftmost is as far as the chain goes");
    }

    [Test]
    public void an_entry_that_is_not_an_address_ends_the_walk_at_the_hop_before_it()
    {
        Resolve("127.0.0.1", "203.0.113.7, unknown, 10.0.0.9").Should().Be("10.0.0.9");
        Resolve("127.0.0.1", "garbage").Should().Be("127.0.0.1");
        Resolve("127.0.0.1", "1.2").Should().Be("127.0.0.1", "IPv4 shorthand is not what a proxy writes");
    }

    [Test]
    public void addresses_with_ports_and_ipv6_forms_are_understood()
    {
        Resolve("127.0.0.1", "203.0.113.7:5000").Should().Be("203.0.113.7");
        Resolve("127.0.0.1", "[2001:db9::1]:443").Should().Be("2001:db9::1");
        Resolve("127.0.0.1", "::ffff:203.0.113.7").Should().Be("203.0.113.7", "an IPv4-mapped address is the IPv4 address");
        Resolve("::ffff:127.0.0.1", "203.0.113.7").Should().Be("203.0.113.7", "a dual-stack listener reports the proxy as IPv4-mapped");
        Resolve("::ffff:198.51.100.9", "203.0.113.7").Should().Be("198.51.100.9");
    }

    [Test]
    public void x_real_ip_counts_only_without_x_forwarded_for()
    {
        Resolve("127.0.0.1", null, "203.0.113.8").Should().Be("203.0.113.8");
        Resolve("127.0.0.1", "203.0.113.7", "203.0.113.8").Should().Be("203.0.113.7");
        Resolve("127.0.0.1", null, "not-an-address").Should().Be("127.0.0.1");
    }
}
