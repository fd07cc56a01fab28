using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace CameraRpc.Server.Security;

/// <summary>
/// Decides whether a request may call the server: the bearer token (<c>--auth-token</c> or one of
/// <c>--tokens-file</c>, resolved to its <see cref="TokenIdentity"/>) and, for requests from browsers,
/// the <c>Origin</c> rule (<c>--allowed-origins</c>).
/// </summary>
/// <remarks>
/// The token is compared in constant time (<see cref="TokenSet"/>) and never logged. <c>?access_token=</c> is accepted on the
/// WebSocket upgrade only, because browsers cannot set headers on a WebSocket; an HTTP POST must use
/// the header. The Origin rule blocks cross-site WebSocket hijacking: a request without Origin (not a
/// browser) or from the same origin is always allowed, any other only when listed (or <c>*</c>).
/// </remarks>
internal sealed class RequestAuthorizer
{
    private readonly AccessControl _access;
    private readonly HashSet<string> _origins;
    private readonly bool _anyOrigin;

    public RequestAuthorizer(AccessControl access, IReadOnlyList<string> allowedOrigins)
    {
        _access = access;
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

    /// <summary>True when a token is required (<c>--auth-token</c> or <c>--tokens-file</c>).</summary>
    public bool RequiresToken => _access.ChecksScopes;

    /// <summary>
    /// True when the request carries a known token (its identity in <paramref name="identity"/>), or
    /// when none is required (identity null).
    /// </summary>
    public bool TryAuthenticate(HttpListenerRequest request, bool allowQueryToken, out TokenIdentity? identity)
    {
        identity = null;
        if (!RequiresToken)
        {
            return true;
        }

        string? header = request.Headers["Authorization"];
        if (header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            identity = _access.Authenticate(header.AsSpan(7).Trim());
        }
        else if (allowQueryToken && request.QueryString["access_token"] is { } queryToken)
        {
            identity = _access.Authenticate(queryToken);
        }

        return identity is not null;
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
}
