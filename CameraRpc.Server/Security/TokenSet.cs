using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace CameraRpc.Server.Security;

/// <summary>
/// The tokens the server accepts: those of <c>--tokens-file</c> and <c>--auth-token</c>. Finds the
/// identity of a presented token by comparing its SHA-256 with every known hash in constant time.
/// </summary>
/// <remarks>
/// Immutable; a SIGHUP reload builds a new set. The comparison takes the same time whatever the
/// input: the presented token is hashed (so every comparison is between 32-byte values), compared with
/// <see cref="CryptographicOperations.FixedTimeEquals"/>, and every entry is compared even after a
/// match, so neither the position of a match nor a common prefix shows in the time taken.
/// </remarks>
internal sealed class TokenSet
{
    /// <summary>Longest token considered, in characters; anything longer is refused without hashing much.</summary>
    public const int MaxTokenLength = 4096;

    private readonly TokenIdentity[] _identities;

    public TokenSet(IEnumerable<TokenIdentity> identities) => _identities = [.. identities];

    /// <summary>The set that accepts nothing.</summary>
    public static TokenSet Empty { get; } = new([]);

    /// <summary>Every identity, in file order (<c>--auth-token</c>'s last).</summary>
    public IReadOnlyList<TokenIdentity> Identities => _identities;

    /// <summary>This set plus <c>--auth-token</c>'s identity (every scope), when one is given.</summary>
    public TokenSet WithAuthToken(string? authToken) =>
        string.IsNullOrEmpty(authToken)
            ? this
            : new TokenSet(_identities.Append(new TokenIdentity(TokenIdentity.AuthTokenName, Hash(authToken), [], hasEveryScope: true)));

    /// <summary>The identity of <paramref name="token"/>, or null when it is not a known token.</summary>
    public TokenIdentity? Find(ReadOnlySpan<char> token)
    {
        if (token.IsEmpty || token.Length > MaxTokenLength)
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[Sha256.HashSize];
        byte[] utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(token.Length));
        try
        {
            int length = Encoding.UTF8.GetBytes(token, utf8);
            Sha256.HashData(utf8.AsSpan(0, length), hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8, clearArray: true);
        }

        return FindByHash(hash);
    }

    /// <summary>The identity whose hash is <paramref name="sha256"/>, compared in constant time; null when none.</summary>
    public TokenIdentity? FindByHash(ReadOnlySpan<byte> sha256)
    {
        TokenIdentity? found = null;
        foreach (TokenIdentity identity in _identities)
        {
            // No early exit: every entry is compared whatever matched before.
            if (CryptographicOperations.FixedTimeEquals(identity.Sha256Hash, sha256))
            {
                found ??= identity;
            }
        }

        return found;
    }

    /// <summary>SHA-256 of the UTF-8 of <paramref name="token"/>.</summary>
    public static byte[] Hash(string token)
    {
        byte[] hash = new byte[Sha256.HashSize];
        Sha256.HashData(Encoding.UTF8.GetBytes(token), hash);
        return hash;
    }
}
