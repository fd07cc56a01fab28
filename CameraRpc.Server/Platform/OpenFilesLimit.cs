using System.Runtime.InteropServices;

namespace CameraRpc.Server.Platform;

/// <summary>The process's limit on open file descriptors (RLIMIT_NOFILE): every connection needs one.</summary>
/// <remarks>
/// The .NET runtime raises the soft limit to the hard limit when the process starts (Go's does the
/// same), so a shell's usual soft limit of 1024 does not cap the server; the hard limit does. When even
/// that is short of <c>--max-connections</c>, clients past it wait unaccepted and nothing else says why.
/// </remarks>
internal static class OpenFilesLimit
{
    private const int RlimitNofile = 7; // <sys/resource.h>, Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    /// <summary>The limit in force (the soft limit); null where it cannot be read (off Linux).</summary>
    public static ulong? Current()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return getrlimit(RlimitNofile, out RLimit limit) == 0 ? limit.Current : null;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrlimit(int resource, out RLimit limit);
}
