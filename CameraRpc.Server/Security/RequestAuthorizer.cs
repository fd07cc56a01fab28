using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace CameraRpc.Server.Security;

/// <summary>
/// Decides whether a request may call the server: the bearer token (<c>--auth-token</c>) and, for
/// requests from browsers, the <c>Origin</c> rule (<c>--allowed-origins</c>).
/// </summary>
/// <remarks>
/// The token is compared in constant time and never logged. <c>?access_token=</c> is accepted on the
/// WebSocket upgrade only, because browsers cannot set headers on a WebSocket; an HTTP POST must use
/// the header. The Origin rule blocks cross-site WebSocket hijacking: a request without Origin (not a
/// browser) or from the same origin is always allowed, any other only when listed (or <c>*</c>).
/// </remarks>
internal sealed class RequestAuthorizer
{
    private readonly byte[]? _token;
    private readonly HashSet<string> _origins;
    private readonly bool _anyOrigin;

    public RequestAuthorizer(string? authToken, IReadOnlyList<string> allowedOrigins)
    {
        _token = string.IsNullOrEmpty(authToken) ? null : Encoding.UTF8.GetBytes(authToken);
        _origins = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string origin in allowedOrigins)
        {
            if (origin == "*")
            {
                _anyOrigin = true;
            }
            else
            {
                _origins.Add(origin.TrimEnd('/'));
            }
        }
    }

    /// <summary>True when the request carries the token (or none is required).</summary>
    public bool IsAuthenticated(HttpListenerRequest request, bool allowQueryToken)
    {
        if (_token is null)
        {
            return true;
        }

        string? header = request.Headers["Authorization"];
        if (header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Matches(header.AsSpan(7).Trim());
        }

        if (allowQueryToken && request.QueryString["access_token"] is { } queryToken)
        {
            return Matches(queryToken);
        }

        return false;
    }

    /// <summary>True when the Origin rule allows the request.</summary>
    public bool IsOriginAllowed(HttpListenerRequest request)
    {
        string? origin = request.Headers["Origin"];
        if (string.IsNullOrEmpty(origin) || _anyOrigin)
        {
            return true;
        }

        string trimmed = origin.TrimEnd('/');
        if (_origins.Contains(trimmed))
        {
            return true;
        }

        // Same origin: the page was served from the host the browser is now connecting to.
        string? host = request.Headers["Host"];
        return host is not null
            && Uri.TryCreate(trimmed, UriKind.Absolute, out Uri? originUri)
            && string.Equals(originUri.Authority, host, StringComparison.OrdinalIgnoreCase);
    }

    private bool Matches(ReadOnlySpan<char> candidate)
    {
        Span<byte> buffer = candidate.Length <= 256 ? stackalloc byte[candidate.Length * 3] : new byte[candidate.Length * 3];
        int length = Encoding.UTF8.GetBytes(candidate, buffer);

        // FixedTimeEquals is constant-time only for equal lengths; the length itself is not secret.
        return CryptographicOperations.FixedTimeEquals(buffer[..length], _token);
    }
}
