using System.Globalization;

namespace CameraRpc.Server.Logging;

/// <summary>The access-control log events (contract section 8): tokens read and reloaded, refusals by a rate limit.</summary>
/// <remarks>A token is named in the log, never shown.</remarks>
internal sealed partial class ServerLog
{
    public void TokensRead(string path, int count)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, string.Create(CultureInfo.InvariantCulture, $"Tokens read from {path}: {count} token(s)"));
        }
    }

    public void TokensFileReadableByOthers(string path)
    {
        if (IsEnabled(LogLevel.Warning))
        {
            Write(LogLevel.Warning, $"Tokens file {path} is readable by other users; make it private: chmod 600 {path}");
        }
    }

    public void TokensReloaded(string path, int count, int closed)
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, string.Create(CultureInfo.InvariantCulture, $"Tokens reloaded from {path}: {count} token(s); {closed} connection(s) whose token is gone closed"));
        }
    }

    public void TokensNotReloaded(string error)
    {
        if (IsEnabled(LogLevel.Error))
        {
            Write(LogLevel.Error, $"Tokens not reloaded, the previous ones stay: {error}");
        }
    }

    public void NoTokensFileToReload()
    {
        if (IsEnabled(LogLevel.Info))
        {
            Write(LogLevel.Info, "Received SIGHUP: no --tokens-file to re-read");
        }
    }

    /// <summary>An upgrade over <c>--connect-rate-limit</c>; at debug, since a flood would fill the log.</summary>
    public void ConnectRateLimited(string client, int perSecond)
    {
        if (IsEnabled(LogLevel.Debug))
        {
            Write(LogLevel.Debug, string.Create(CultureInfo.InvariantCulture, $"Refused {client}: over --connect-rate-limit ({perSecond}/s)"));
        }
    }

    /// <summary>The client's connect line, with the name of its token when it presented one.</summary>
    public static string WithTokenName(string client, string? tokenName) => tokenName is null ? client : $"{client} as '{tokenName}'";
}
