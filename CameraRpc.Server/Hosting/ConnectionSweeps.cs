using System.Net.WebSockets;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Transport;

namespace CameraRpc.Server.Hosting;

/// <summary>The host's periodic walks over the live connections: idle ones closed, hung-up clients' calls cancelled.</summary>
internal static class ConnectionSweeps
{
    /// <summary>
    /// Every <see cref="WebSocketConnection.PeerCheckInterval"/> until <paramref name="stopping"/>: cancels the
    /// calls of connections under back-pressure whose client hung up. Never throws.
    /// </summary>
    public static async Task CancelCallsOfHungUpClientsAsync(ConnectionRegistry connections, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(WebSocketConnection.PeerCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                connections.CancelCallsOfHungUpClients();
            }
        }
        catch (OperationCanceledException)
        {
            // Shutdown.
        }
    }

    /// <summary>Closes with 1001 every connection without an inbound message for <paramref name="timeout"/> (<c>--idle-timeout</c>). Never throws.</summary>
    public static async Task CloseIdleConnectionsAsync(ConnectionRegistry connections, TimeSpan timeout, ServerLog log, CancellationToken stopping)
    {
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds / 4, 50, 1000));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                long now = Environment.TickCount64;
                foreach (WebSocketConnection connection in connections.Snapshot())
                {
                    // A connection waiting for an answer is not idle, however long the call takes.
                    // Logged once: the connection stays in the registry until its client answers the close.
                    if (connection.CallsInFlight == 0 && now - connection.LastActivity >= (long)timeout.TotalMilliseconds
                        && connection.BeginClose(WebSocketCloseStatus.EndpointUnavailable, "idle timeout"))
                    {
                        log.IdleConnectionClosing(connection.RemoteEndPoint, timeout);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutdown.
        }
    }
}
