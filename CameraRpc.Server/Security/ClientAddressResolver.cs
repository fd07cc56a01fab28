using System.Net;

namespace CameraRpc.Server.Security;

/// <summary>
/// The real client address of a request (contract §8): the peer's own address, or, when the peer is a
/// trusted proxy (<c>--trusted-proxies</c>), the client its <c>X-Forwarded-For</c> or
/// <c>X-Real-IP</c> names.
/// </summary>
/// <remarks>
/// <c>X-Forwarded-For</c> is walked from the right, the way ASP.NET Core's ForwardedHeadersMiddleware
/// does: each proxy appends the address it received the request from, so the rightmost entries were
/// written by proxies we trust and the first one that is not a trusted proxy is the client. Entries to
/// its left were written by the client itself and prove nothing. An entry that is not an address ends
/// the walk at the hop before it (the last address that could be checked). From a peer that is not a
/// trusted proxy both headers are ignored: anyone can send them. IPv4-mapped IPv6 addresses
/// (<c>::ffff:10.0.0.1</c>, what a dual-stack listener reports) are treated as the IPv4 address.
/// </remarks>
internal sealed class ClientAddressResolver
{
    private readonly IPNetwork[] _trusted;

    public ClientAddressResolver(IReadOnlyList<IPNetwork> trustedProxies)
    {
        ArgumentNullException.ThrowIfNull(trustedProxies);
        _trusted = [.. trustedProxies];
    }

    /// <summary>True when no proxy is trusted: the peer's address is always the client's.</summary>
    public bool TrustsNoProxy => _trusted.Length == 0;

    /// <summary>The client's address for a request from <paramref name="peer"/> with these header values (null when absent).</summary>
    public IPAddress Resolve(IPAddress peer, string? forwardedFor, string? realIp)
    {
        ArgumentNullException.ThrowIfNull(peer);
        IPAddress current = Normalize(peer);
        if (!IsTrusted(current))
        {
            return current;
        }

        if (!string.IsNullOrWhiteSpace(forwardedFor))
        {
            ReadOnlySpan<char> rest = forwardedFor;
            while (!rest.IsEmpty)
            {
                int comma = rest.LastIndexOf(',');
                ReadOnlySpan<char> entry = (comma < 0 ? rest : rest[(comma + 1)..]).Trim();
                rest = comma < 0 ? [] : rest[..comma];
                if (!TryParseHop(entry, out IPAddress? hop))
                {
                    return current; // not an address: the hop before it is as far as we can trust
                }

                current = hop;
                if (!IsTrusted(current))
                {
                    return current;
                }
            }

            return current; // every hop was a trusted proxy: the leftmost is the client
        }

        if (!string.IsNullOrWhiteSpace(realIp) && TryParseHop(realIp.AsSpan().Trim(), out IPAddress? real))
        {
            return real;
        }

        return current;
    }

    /// <summary>The IPv4 address of an IPv4-mapped IPv6 address; any other unchanged.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private bool IsTrusted(IPAddress address)
    {
        foreach (IPNetwork network in _trusted)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An address as proxies write it: bare (<c>10.0.0.1</c>, <c>2001:db8::1</c>) or with a port (<c>10.0.0.1:5000</c>, <c>[2001:db8::1]:5000</c>).</summary>
    private static bool TryParseHop(ReadOnlySpan<char> text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.IsEmpty)
        {
            return false;
        }

        if (IPAddress.TryParse(text, out IPAddress? parsed) || (IPEndPoint.TryParse(text, out IPEndPoint? endPoint) && (parsed = endPoint.Address) is not null))
        {
            // IPAddress.TryParse accepts "1" and "1.2" as IPv4 shorthands; a proxy never writes those.
            if (parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && text.Count('.') != 3 && !text.Contains(':'))
            {
                return false;
            }

            address = Normalize(parsed);
            return true;
        }

        return false;
    }
}
