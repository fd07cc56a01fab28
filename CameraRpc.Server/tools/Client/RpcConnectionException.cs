namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// The transport failed: the server could not be reached, refused the upgrade, or the
/// connection ended before the answer came. <see cref="Exception.Message"/> is the one line
/// an operator sees, e.g. <c>cannot connect to ws://127.0.0.1:8002/ws: Connection refused</c>.
/// </summary>
internal sealed class RpcConnectionException : Exception
{
    public RpcConnectionException(string message, Exception? innerException = null)
        : base(OneLine(message), innerException)
    {
    }

    /// <summary>
    /// The server answered 401 (its <c>--auth-token</c>): no call can succeed, so the commands treat it as
    /// "cannot connect" (exit 2), over HTTP too, where it comes with the first POST rather than the connect.
    /// </summary>
    public bool IsUnauthorized { get; private init; }

    /// <summary><c>cannot connect to URL: 401 Unauthorized, …</c>, saying whether a token was sent.</summary>
    public static RpcConnectionException Unauthorized(Uri url, bool tokenSent, Exception? innerException = null) =>
        new($"cannot connect to {url}: {BearerToken.UnauthorizedReason(tokenSent)}", innerException) { IsUnauthorized = true };

    /// <summary>The reason closest to the operating system: a socket error's text beats the wrappers around it.</summary>
    public static string Describe(Exception exception)
    {
        Exception? current = exception;
        Exception innermost = exception;
        while (current is not null)
        {
            if (current is System.Net.Sockets.SocketException socketException)
            {
                return socketException.Message;
            }

            innermost = current;
            current = current.InnerException;
        }

        return innermost.Message;
    }

    /// <summary>
    /// Line breaks become spaces: the message may quote what a server sent (an HTML error page) or an
    /// exception's text, and the operator is promised one line.
    /// </summary>
    private static string OneLine(string message) =>
        message.AsSpan().IndexOfAny('\r', '\n') < 0
            ? message
            : string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
