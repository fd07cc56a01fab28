using System.Runtime.InteropServices;

namespace CameraRpc.Server.Platform;

/// <summary>The process's limit on open file descriptors (RLIMIT_NOFILE): every connection needs one.</summary>
/// <remarks>
/// The soft limit is often 1024 while the hard limit allows far more; raising the soft limit up to the
/// hard one needs no privilege. The JIT-compiled runtime does it when the process starts, the Native
/// AOT one does not (measured), so the executable does it itself, as Go's runtime does. When even the
/// hard limit is short of <c>--max-connections</c>, clients past it wait unaccepted and nothing else says why.
/// </remarks>
internal static partial class OpenFilesLimit
{
    private const int RlimitNofile = 7; // <sys/resource.h>, Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    /// <summary>
    /// Raises the soft limit to the hard limit. Returns the limit before and the one in force after
    /// (equal when it already was at the hard limit); null where the limit cannot be read (off Linux).
    /// </summary>
    public static (ulong Before, ulong After)? RaiseToHardLimit()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            if (getrlimit(RlimitNofile, out RLimit limit) != 0)
            {
                return null;
            }

            if (limit.Current < limit.Maximum)
            {
                var raised = new RLimit { Current = limit.Maximum, Maximum = limit.Maximum };
                if (setrlimit(RlimitNofile, ref raised) == 0)
                {
                    return (limit.Current, raised.Current);
                }
            }

            return (limit.Current, limit.Current);
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, out RLimit limit);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, ref RLimit limit);
}
