using System.Net.WebSockets;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Security;
using CameraRpc.Server.Transport;

namespace CameraRpc.Server.Hosting;

/// <summary>
/// SIGHUP: re-reads <c>--tokens-file</c> (contract section 8). Connections whose token is gone are
/// closed with 1008; a token still there keeps its connections, and its new scopes apply from its next
/// call. A file that no longer reads is an ERROR line and the old tokens stay.
/// </summary>
internal sealed class TokensReloader
{
    private readonly AccessControl _access;
    private readonly ConnectionRegistry _connections;
    private readonly ServerLog _log;

    public TokensReloader(AccessControl access, ConnectionRegistry connections, ServerLog log)
    {
        _access = access;
        _connections = connections;
        _log = log;
    }

    /// <summary>Re-reads the file; true when it was read.</summary>
    public bool Reload()
    {
        if (_access.TokensFile is not { } path)
        {
            _log.NoTokensFileToReload();
            return false;
        }

        if (!_access.TryReload(out TokenSet? tokens, out string? error))
        {
            _log.TokensNotReloaded(error);
            return false;
        }

        int closed = 0;
        foreach (WebSocketConnection connection in _connections.Snapshot())
        {
            if (connection.Admission is { } admission && !admission.Rebind(tokens)
                && connection.BeginClose(WebSocketCloseStatus.PolicyViolation, "token revoked"))
            {
                closed++;
            }
        }

        _log.TokensReloaded(path, tokens.Identities.Count(t => !t.HasEveryScope), closed);
        WarnIfReadableByOthers();
        return true;
    }

    /// <summary>A WARNING when other users may read the tokens file (it says who may do what).</summary>
    public void WarnIfReadableByOthers()
    {
        if (_access.TokensFile is { } path && TokensFileLoader.IsReadableByOthers(path))
        {
            _log.TokensFileReadableByOthers(path);
        }
    }
}
