using System.Diagnostics.CodeAnalysis;
using CameraRpc.Server.Tools.Cli;

namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// The token <c>call</c>, <c>probe</c> and <c>bench</c> send as <c>Authorization: Bearer TOKEN</c> to a
/// server started with <c>--auth-token</c>, and the line an operator sees when the server answers 401.
/// </summary>
/// <remarks>
/// The commands take the token from <see cref="EnvironmentVariable"/>, the variable the server reads
/// too, so an operator who sources the service's env file sends the right one; an environment variable
/// rather than a flag keeps the secret out of <c>ps</c>. The commands read it once and hand it down; the
/// client classes never read the environment. The token itself is never printed.
/// </remarks>
internal static class BearerToken
{
    /// <summary>The variable the client commands read the token from; the server's <c>--auth-token</c> reads it too.</summary>
    public const string EnvironmentVariable = "CAMERARPC_AUTH_TOKEN";

    /// <summary>
    /// Reads the variable's value: unset, empty or <c>none</c> is no token, as for the server; a blank
    /// value, which the server refuses at startup, is no token here too (a client has nothing to refuse).
    /// Fails when the token cannot go into an HTTP header (a control or non-ASCII character);
    /// the error does not quote the token.
    /// </summary>
    public static bool TryParse(string? value, out string? token, [NotNullWhen(false)] out string? error)
    {
        token = null;
        error = null;
        if (string.IsNullOrWhiteSpace(value) || string.Equals(value.Trim(), CommandArguments.NoneValue, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (char c in value)
        {
            if (c is < ' ' or > '~')
            {
                error = $"{EnvironmentVariable} holds a character that cannot go into an HTTP header (only printable ASCII can)";
                return false;
            }
        }

        token = value;
        return true;
    }

    /// <summary>The <c>Authorization</c> header's value.</summary>
    public static string HeaderValue(string token) => "Bearer " + token;

    /// <summary>
    /// Why a 401 happened, for the line after <c>cannot connect to URL: </c>: the server wants a token
    /// and none was sent, or it refused the one sent.
    /// </summary>
    public static string UnauthorizedReason(bool tokenSent) =>
        tokenSent
            ? $"401 Unauthorized, the server refused the token in {EnvironmentVariable}"
            : $"401 Unauthorized, the server wants a token (set {EnvironmentVariable} to its --auth-token)";
}
