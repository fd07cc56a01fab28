using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using CameraRpc.Server.Configuration;

namespace CameraRpc.Server.Security;

/// <summary>
/// Reads <c>--tokens-file</c> into a <see cref="TokenSet"/>. Every problem is one line naming the
/// file: missing or unreadable, not JSON, not the expected shape, a hash that is not 64 hex digits, a
/// name or a hash given twice, an empty scope.
/// </summary>
internal static class TokensFileLoader
{
    /// <summary>Largest tokens file read; a bigger one is refused rather than read whole.</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>Reads and checks <paramref name="path"/>.</summary>
    /// <returns>True with the set; false with one line saying what is wrong.</returns>
    public static bool TryLoad(string path, [NotNullWhen(true)] out TokenSet? tokens, [NotNullWhen(false)] out string? error)
    {
        tokens = null;
        byte[] bytes;
        try
        {
            using FileStream stream = File.OpenRead(path);
            if (stream.Length > MaxFileBytes)
            {
                error = $"tokens file '{path}' is larger than {MaxFileBytes} bytes";
                return false;
            }

            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = $"cannot read tokens file '{path}': {FileErrorText.Describe(ex)}";
            return false;
        }

        return TryParse(path, bytes, out tokens, out error);
    }

    /// <summary>Checks the contents of a tokens file; <paramref name="path"/> is only named in errors.</summary>
    public static bool TryParse(string path, ReadOnlySpan<byte> json, [NotNullWhen(true)] out TokenSet? tokens, [NotNullWhen(false)] out string? error)
    {
        tokens = null;
        TokensFileModel? model;
        try
        {
            model = JsonSerializer.Deserialize(json, TokensFileJsonContext.Default.TokensFileModel);
        }
        catch (JsonException ex)
        {
            // The runtime's own message is a resource key in the AOT build; the position is what helps.
            string where = ex.Path is { Length: > 1 } jsonPath ? $" at {jsonPath}" : string.Empty;
            string line = ex.LineNumber is long number ? $" (line {number + 1})" : string.Empty;
            error = $"tokens file '{path}' is not valid{where}{line}: expected {{\"tokens\":[{{\"name\":…,\"sha256\":…,\"scopes\":[…]}}]}}";
            return false;
        }

        if (model?.Tokens is null)
        {
            error = $"tokens file '{path}' has no \"tokens\" array: expected {{\"tokens\":[{{\"name\":…,\"sha256\":…,\"scopes\":[…]}}]}}";
            return false;
        }

        var identities = new List<TokenIdentity>(model.Tokens.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < model.Tokens.Count; i++)
        {
            TokenEntryModel? entry = model.Tokens[i];
            if (entry is null || string.IsNullOrWhiteSpace(entry.Name))
            {
                error = $"tokens file '{path}': token {i + 1} has no name";
                return false;
            }

            string name = entry.Name;
            if (!names.Add(name))
            {
                error = $"tokens file '{path}': the name '{name}' is given twice";
                return false;
            }

            if (entry.Sha256 is not { Length: Sha256.HashSize * 2 } hex || !IsHex(hex))
            {
                error = $"tokens file '{path}': token '{name}' has a sha256 that is not 64 hex digits";
                return false;
            }

            if (hashes.TryGetValue(hex, out string? other))
            {
                error = $"tokens file '{path}': tokens '{other}' and '{name}' have the same sha256";
                return false;
            }

            hashes.Add(hex, name);
            var scopes = new List<string>();
            foreach (string? scope in entry.Scopes ?? [])
            {
                if (string.IsNullOrWhiteSpace(scope))
                {
                    error = $"tokens file '{path}': token '{name}' has an empty scope";
                    return false;
                }

                if (!scopes.Contains(scope))
                {
                    scopes.Add(scope);
                }
            }

            identities.Add(new TokenIdentity(name, Convert.FromHexString(hex), scopes));
        }

        tokens = new TokenSet(identities);
        error = null;
        return true;
    }

    /// <summary>True when users other than the owner may read <paramref name="path"/> (worth a warning: it lists who may do what).</summary>
    public static bool IsReadableByOthers(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        try
        {
            return (File.GetUnixFileMode(path) & UnixFileMode.OtherRead) != 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool IsHex(string text)
    {
        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
