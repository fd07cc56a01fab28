using System.Net.WebSockets;
using CameraRpc.Server.Security;
using CameraRpc.Server.Transport;

namespace CameraRpc.Server.Hosting;

internal sealed partial class RpcServer
{
    /// <summary>
    /// SIGHUP: re-reads <c>--tokens-file</c> (contract section 8). Connections whose token is gone are
    /// closed with 1008; a token still there keeps its connections, and its new scopes apply from its
    /// next call. A file that no longer reads is an ERROR line and the old tokens stay.
    /// </summary>
    /// <returns>True when the file was read.</returns>
    public bool ReloadTokens()
    {
        if (_access.TokensFile is null)
        {
            _log.Info("Received SIGHUP: no --tokens-file to re-read");
            return false;
        }

        if (!_access.TryReload(out TokenSet? tokens, out string? error))
        {
            _log.Error($"Tokens not reloaded, the previous ones stay: {error}");
            return false;
        }

        int closed = 0;
        foreach (WebSocketConnection connection in _connections.Snapshot())
        {
            if (connection.Admission is { } admission && !admission.Rebind(tokens))
            {
                if (connection.BeginClose(WebSocketCloseStatus.PolicyViolation, "token revoked"))
                {
                    closed++;
                }
            }
        }

        _log.Info($"Tokens reloaded from {_access.TokensFile}: {tokens.Identities.Count(t => !t.HasEveryScope)} token(s); {closed} connection(s) whose token is gone closed");
        WarnIfTokensFileIsReadableByOthers();
        return true;
    }

    /// <summary>A WARNING when other users may read the tokens file (it says who may do what).</summary>
    public void WarnIfTokensFileIsReadableByOthers()
    {
        if (_access.TokensFile is { } path && TokensFileLoader.IsReadableByOthers(path))
        {
            _log.Warning($"Tokens file {path} is readable by other users; make it private: chmod 600 {path}");
        }
    }
}
