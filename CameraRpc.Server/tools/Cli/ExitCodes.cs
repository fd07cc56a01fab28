namespace CameraRpc.Server.Tools.Cli;

/// <summary>
/// The process exit codes of every command (contract §1); scripts and CI rely on them. One name per
/// meaning: the values repeat (1 means "did not succeed" for every command), the names do not, so each
/// <c>return</c> says which outcome it is.
/// </summary>
internal static class ExitCodes
{
    /// <summary>Everything went as asked: graceful shutdown, a result, every probe check or bench request passed, a watch that ended, --help, --version.</summary>
    public const int Success = 0;

    /// <summary><c>serve</c> could not start: bad option, unreadable config or log file, port in use.</summary>
    public const int StartupFailure = 1;

    /// <summary><c>serve</c>: a second SIGTERM/SIGINT during the graceful shutdown exits at once.</summary>
    public const int ImmediateExit = 1;

    /// <summary>
    /// The command line is wrong: unknown command, unknown or repeated option, missing METHOD or TOPIC, a
    /// bad value, an unusable <c>CAMERARPC_AUTH_TOKEN</c>. Nothing was sent.
    /// </summary>
    public const int UsageError = 1;

    /// <summary><c>call</c>: the server answered with an error object; <c>watch</c>: it refused the <c>rpc.subscribe</c>.</summary>
    public const int ErrorAnswer = 1;

    /// <summary><c>probe</c>: at least one check failed.</summary>
    public const int ProbeFailed = 1;

    /// <summary>
    /// <c>bench</c>: a connection failed or dropped, a request was lost or failed, or the run was interrupted; with
    /// <c>--subscribers</c>, a subscription or <c>bench.publish</c> was refused.
    /// </summary>
    public const int BenchFailed = 1;

    /// <summary>
    /// <c>call</c>, <c>probe</c>, <c>bench</c>, <c>watch</c>: no connection to the server could be made, the server
    /// refused the client with 401 (a missing or wrong token in <c>CAMERARPC_AUTH_TOKEN</c>), or the connection
    /// broke or stayed silent before the answer came.
    /// </summary>
    public const int CannotConnect = 2;
}
