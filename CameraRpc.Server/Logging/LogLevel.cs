namespace CameraRpc.Server.Logging;

/// <summary>Severity of a log line; a line is written when its level is at least the configured <c>--log-level</c>.</summary>
internal enum LogLevel
{
    Debug,
    Info,
    Warning,
    Error,
}
