namespace CameraRpc.Server.Cli;

/// <summary>The process exit codes of every command (contract §1); scripts and CI rely on them.</summary>
internal static class ExitCodes
{
    /// <summary>Everything went as asked: graceful shutdown, a result, every probe check or bench request passed, --help, --version.</summary>
    public const int Success = 0;

    /// <summary><c>serve</c> could not start: bad option, unreadable config or log file, port in use.</summary>
    public const int StartupFailure = 1;

    /// <summary>The command line itself is wrong (unknown command, missing METHOD); same code as a bad serve option.</summary>
    public const int UsageError = 1;

    /// <summary>Any client command that did not succeed: an error answer, a failed check, a lossy bench run, a bad argument.</summary>
    public const int Failure = 1;

    /// <summary><c>call</c>: the server answered with an error object.</summary>
    public const int ErrorAnswer = 1;

    /// <summary><c>probe</c>: at least one check failed.</summary>
    public const int ProbeFailed = 1;

    /// <summary><c>bench</c>: at least one request was lost or failed.</summary>
    public const int BenchFailed = 1;

    /// <summary>
    /// <c>call</c>, <c>probe</c>, <c>bench</c>: no connection to the server could be made, or the server refused the
    /// client with 401 (a missing or wrong token in <c>CAMERARPC_AUTH_TOKEN</c>).
    /// </summary>
    public const int CannotConnect = 2;
}
