using System.Globalization;

namespace CameraRpc.Server.Logging;

/// <summary>The transport's log events: connections that fail, stop reading, or break while being written to.</summary>
internal sealed partial class ServerLog
{
    /// <summary>A bug of ours ended a connection's read loop; the connection is closed like a broken one.</summary>
    public void ConnectionFailed(string endpoint, Exception exception)
    {
        if (IsEnabled(LogLevel.Error))
        {
            Write(LogLevel.Error, $"Connection {endpoint} failed: {exception.GetType().Name}: {exception.Message}");
        }
    }

    /// <summary>The engine threw instead of answering (a bug in the engine); the message gets no answer.</summary>
    public void DispatchFailed(string endpoint, Exception exception)
    {
        if (IsEnabled(LogLevel.Error))
        {
            Write(LogLevel.Error, $"Dispatch failed for {endpoint}: {exception.GetType().Name}");
        }
    }

    /// <summary>A client's unsent answers passed the send-queue cap: it is not reading, and is aborted.</summary>
    public void ClientNotReading(string endpoint, long queuedBytes)
    {
        if (IsEnabled(LogLevel.Warning))
        {
            Write(LogLevel.Warning, string.Create(
                CultureInfo.InvariantCulture, $"Client {endpoint} is not reading its answers ({queuedBytes} bytes queued); connection aborted"));
        }
    }

    /// <summary>A send to a client failed (it is gone); the connection is aborted.</summary>
    public void SendFailed(string endpoint, Exception exception)
    {
        if (IsEnabled(LogLevel.Debug))
        {
            Write(LogLevel.Debug, $"Sending to {endpoint} failed ({exception.GetType().Name}); connection aborted");
        }
    }
}
