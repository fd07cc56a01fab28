namespace CameraRpc.Server.Security;

/// <summary>
/// Who presented a valid token: its name (what the log shows, never the token), the SHA-256 of the
/// token (what a reload matches on) and the scopes it grants.
/// </summary>
/// <remarks>Immutable: a reload that changes a token's scopes makes a new identity.</remarks>
internal sealed class TokenIdentity
{
    /// <summary>The name <c>--auth-token</c>'s identity has in the log.</summary>
    public const string AuthTokenName = "auth-token";

    private readonly string[] _scopes;

    public TokenIdentity(string name, byte[] sha256, IReadOnlyCollection<string> scopes, bool hasEveryScope = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(sha256);
        if (sha256.Length != Sha256.HashSize)
        {
            throw new ArgumentException("A token's hash is 32 bytes.", nameof(sha256));
        }

        Name = name;
        Sha256Hash = sha256;
        _scopes = [.. scopes];
        HasEveryScope = hasEveryScope;
    }

    /// <summary>The token's name from the tokens file (<see cref="AuthTokenName"/> for <c>--auth-token</c>).</summary>
    public string Name { get; }

    /// <summary>SHA-256 of the token; a reload keeps a connection when its token's hash is still in the file.</summary>
    public byte[] Sha256Hash { get; }

    /// <summary>The scopes granted, in file order.</summary>
    public IReadOnlyList<string> Scopes => _scopes;

    /// <summary>True for <c>--auth-token</c>, which has every scope.</summary>
    public bool HasEveryScope { get; }

    /// <summary>The admission step of this token's HTTP requests, made on the first (<see cref="AccessControl.ForHttpRequest"/>).</summary>
    public CallAdmission? HttpAdmission { get; set; }

    /// <summary>True when a call that needs <paramref name="scope"/> may run (allocation-free).</summary>
    public bool HasScope(string scope)
    {
        if (HasEveryScope)
        {
            return true;
        }

        foreach (string granted in _scopes)
        {
            if (string.Equals(granted, scope, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
