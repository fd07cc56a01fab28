using System.Net.WebSockets;
using System.Text;

namespace CameraRpc.Server.Transport;

/// <summary>
/// The server's half of the permessage-deflate negotiation (RFC 7692 section 5): reads the client's
/// <c>Sec-WebSocket-Extensions</c> offers, takes the first one the server can honour, and spells both
/// the answer for the <c>101</c> and the runtime's <see cref="WebSocketDeflateOptions"/> that match it.
/// </summary>
/// <remarks>
/// <para>An offer the server cannot take (an unknown or repeated parameter, a bad value, a window of
/// 8 bits that the runtime's zlib cannot produce) is declined by leaving it out of the answer, never
/// by failing the upgrade: the connection then simply goes uncompressed (RFC 7692 section 5.1).</para>
/// <para>The answer uses only what the runtime's WebSocket honours: window bits 9 to 15 and context
/// takeover per direction. The server may always answer <c>server_no_context_takeover</c>
/// (section 7.1.1.1), <c>client_no_context_takeover</c> (section 7.1.1.2) and a smaller
/// <c>server_max_window_bits</c> (section 7.1.2.1); it may answer <c>client_max_window_bits</c> only
/// when the offer carried that parameter (section 7.1.2.2).</para>
/// </remarks>
internal static partial class PerMessageDeflateNegotiation
{
    /// <summary>The extension's name (RFC 7692 section 7).</summary>
    public const string ExtensionName = "permessage-deflate";

    /// <summary>The smallest window the runtime's WebSocket accepts (its zlib silently widens 8 to 9).</summary>
    public const int MinWindowBits = 9;

    /// <summary>The largest window RFC 7692 allows, and the default of both peers.</summary>
    public const int MaxWindowBits = 15;

    private const string ServerNoContextTakeover = "server_no_context_takeover";
    private const string ClientNoContextTakeover = "client_no_context_takeover";
    private const string ServerMaxWindowBitsName = "server_max_window_bits";
    private const string ClientMaxWindowBitsName = "client_max_window_bits";

    /// <summary>
    /// Negotiates against the client's <c>Sec-WebSocket-Extensions</c> value (several header lines
    /// joined with commas, as HttpListener joins them and HTTP allows). Returns null when no permessage-deflate offer is
    /// acceptable (or there is none): the connection then goes uncompressed.
    /// </summary>
    public static PerMessageDeflateAgreement? Negotiate(string? offers, PerMessageDeflatePolicy policy)
    {
        if (string.IsNullOrWhiteSpace(offers))
        {
            return null;
        }

        foreach (ExtensionOffer offer in ParseOffers(offers))
        {
            if (offer.Name.Equals(ExtensionName, StringComparison.OrdinalIgnoreCase)
                && TryAccept(offer, policy) is { } agreement)
            {
                return agreement;
            }
        }

        return null;
    }

    private static PerMessageDeflateAgreement? TryAccept(ExtensionOffer offer, PerMessageDeflatePolicy policy)
    {
        if (offer.Malformed)
        {
            return null;
        }

        bool serverNoTakeover = false, clientNoTakeover = false;
        int? serverBits = null;
        bool clientBitsOffered = false;
        int? clientBits = null;

        foreach ((string name, string? value) in offer.Parameters)
        {
            switch (name.ToLowerInvariant())
            {
                case ServerNoContextTakeover when !serverNoTakeover && value is null:
                    serverNoTakeover = true;
                    break;
                case ClientNoContextTakeover when !clientNoTakeover && value is null:
                    clientNoTakeover = true;
                    break;
                case ServerMaxWindowBitsName when serverBits is null && TryParseWindowBits(value, out int bits):
                    serverBits = bits;
                    break;
                case ClientMaxWindowBitsName when !clientBitsOffered:
                    clientBitsOffered = true;
                    if (value is not null)
                    {
                        if (!TryParseWindowBits(value, out int offered))
                        {
                            return null;
                        }

                        clientBits = offered;
                    }

                    break;
                default:
                    // Unknown, repeated (section 7: "MUST NOT have multiple") or badly valued: decline this offer.
                    return null;
            }
        }

        // The server compresses with at most what the client allows; below 9 the runtime cannot go.
        int serverWindow = Math.Min(serverBits ?? MaxWindowBits, policy.ServerMaxWindowBits);
        if (serverWindow < MinWindowBits)
        {
            return null;
        }

        // The client compresses with at most what it said (15 when it said nothing), and at most what we
        // ask for, which we may only ask when it offered the parameter at all.
        int clientLimit = clientBits ?? MaxWindowBits;
        int clientWindow = clientBitsOffered ? Math.Min(clientLimit, policy.ClientMaxWindowBits) : MaxWindowBits;

        bool serverTakeover = policy.ServerContextTakeover && !serverNoTakeover;
        bool clientTakeover = policy.ClientContextTakeover && !clientNoTakeover;

        var answer = new StringBuilder(ExtensionName);
        if (!serverTakeover)
        {
            answer.Append("; ").Append(ServerNoContextTakeover);
        }

        if (!clientTakeover)
        {
            answer.Append("; ").Append(ClientNoContextTakeover);
        }

        if (serverBits is not null || serverWindow < MaxWindowBits)
        {
            // Echoed when the client named a limit (section 7.1.2.1 requires it), stated when we go below 15.
            answer.Append("; ").Append(ServerMaxWindowBitsName).Append('=').Append(serverWindow);
        }

        if (clientWindow < clientLimit)
        {
            answer.Append("; ").Append(ClientMaxWindowBitsName).Append('=').Append(clientWindow);
        }

        var options = new WebSocketDeflateOptions
        {
            // A client window of 8 bits is inflated with 9: a larger inflate window reads any smaller stream.
            ClientMaxWindowBits = Math.Max(clientWindow, MinWindowBits),
            ClientContextTakeover = clientTakeover,
            ServerMaxWindowBits = serverWindow,
            ServerContextTakeover = serverTakeover,
        };
        return new PerMessageDeflateAgreement(answer.ToString(), options, policy.CompressFromBytes);
    }

    /// <summary>A window size: 8 to 15, decimal digits without a leading zero (RFC 7692 sections 7.1.2.1 and 7.1.2.2).</summary>
    private static bool TryParseWindowBits(string? value, out int bits)
    {
        bits = 0;
        if (value is not { Length: 1 or 2 } || value[0] == '0')
        {
            return false;
        }

        foreach (char c in value)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            bits = (bits * 10) + (c - '0');
        }

        return bits is >= 8 and <= MaxWindowBits;
    }
}

/// <summary>
/// What the server wants from a permessage-deflate connection; the negotiation grants no more than
/// this and no more than the client offered.
/// </summary>
/// <param name="ServerMaxWindowBits">The window the server compresses with (9 to 15).</param>
/// <param name="ServerContextTakeover">Whether the server keeps its compressor between messages.</param>
/// <param name="ClientMaxWindowBits">The largest window the server asks the client to compress with, when the client lets it ask (9 to 15).</param>
/// <param name="ClientContextTakeover">Whether the server lets the client keep its compressor between messages (when false, the server answers <c>client_no_context_takeover</c>).</param>
internal sealed record PerMessageDeflatePolicy(int ServerMaxWindowBits, bool ServerContextTakeover, int ClientMaxWindowBits, bool ClientContextTakeover)
{
    /// <summary>
    /// Messages shorter than this go out uncompressed (<see cref="WebSocketMessageFlags.DisableCompression"/>):
    /// under it compression saves a few bytes at best, and each compressed message pays for a fresh compressor.
    /// </summary>
    public int CompressFromBytes { get; init; } = 256;

    /// <summary>
    /// The server's defaults, chosen for many mostly idle connections: no compressor or decompressor
    /// state is kept between messages in either direction, so an idle connection holds none (about
    /// 240 KiB each otherwise); windows stay at 15 bits, which costs nothing between messages; answers
    /// under 256 bytes are not compressed. BENCHMARKS.md, "permessage-deflate", has the figures.
    /// </summary>
    public static PerMessageDeflatePolicy Default { get; } = new(
        ServerMaxWindowBits: PerMessageDeflateNegotiation.MaxWindowBits,
        ServerContextTakeover: false,
        ClientMaxWindowBits: PerMessageDeflateNegotiation.MaxWindowBits,
        ClientContextTakeover: false);
}

/// <summary>
/// A negotiated permessage-deflate: the <c>Sec-WebSocket-Extensions</c> value of the <c>101</c>, the
/// matching options for <see cref="WebSocketCreationOptions.DangerousDeflateOptions"/> (from the
/// server's side: "server" is what we send, "client" what we receive), and the size from which
/// outbound messages are compressed.
/// </summary>
internal sealed record PerMessageDeflateAgreement(string ResponseHeader, WebSocketDeflateOptions Options, int CompressFromBytes);
