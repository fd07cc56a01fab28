namespace CameraRpc.Server.Commands;

/// <summary>The exit codes of the client commands <c>call</c>, <c>probe</c> and <c>bench</c> (contract §1).</summary>
internal static class ExitCodes
{
    /// <summary>A result, every check passed, or a clean bench run.</summary>
    public const int Success = 0;

    /// <summary>An error answer, a failed check, a lossy bench run, or a bad argument.</summary>
    public const int Failure = 1;

    /// <summary>The server could not be reached.</summary>
    public const int CannotConnect = 2;
}
