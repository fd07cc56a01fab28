using System.Globalization;
using CameraRpc.Server.Platform;

namespace CameraRpc.Server.Client;

/// <summary>
/// Finds the local process listening on a TCP port and reads its CPU time from <c>/proc</c>,
/// so a benchmark can be given per server-core-second. Linux only; elsewhere every answer is "unknown".
/// </summary>
internal static class ServerProcessCpu
{
    /// <summary>
    /// The kernel reports <c>utime</c>/<c>stime</c> in USER_HZ ticks, which is 100 on every Linux
    /// architecture the executable ships for (sysconf(_SC_CLK_TCK) would need a P/Invoke for a constant).
    /// </summary>
    private const double TicksPerSecond = 100;

    /// <summary>True for 127.0.0.0/8, ::1 and <c>localhost</c>: only then can the server's process be on this machine.</summary>
    public static bool IsLocalHost(Uri url) =>
        url.IsLoopback || (System.Net.IPAddress.TryParse(url.DnsSafeHost, out System.Net.IPAddress? address) && System.Net.IPAddress.IsLoopback(address));

    /// <summary>The pid of the process holding a listening socket on <paramref name="port"/>, or null.</summary>
    public static int? FindListeningProcess(int port)
    {
        try
        {
            HashSet<string> inodes = ListeningSockets.InodesFor(port);
            if (inodes.Count == 0)
            {
                return null;
            }

            foreach (string processDirectory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(processDirectory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    continue;
                }

                try
                {
                    foreach (string fd in Directory.EnumerateFileSystemEntries(Path.Combine(processDirectory, "fd")))
                    {
                        // A socket fd links to "socket:[INODE]".
                        if (ListeningSockets.IsSocketInode(new FileInfo(fd).LinkTarget, inodes))
                        {
                            return pid;
                        }
                    }
                }
                catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
                {
                    // Another user's process, or one that just exited: not ours to read.
                }
            }
        }
        catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
        {
            // No /proc (not Linux) or not readable: CPU accounting is simply unavailable.
        }

        return null;
    }

    /// <summary>User + system CPU seconds of <paramref name="pid"/> so far, or null when it cannot be read.</summary>
    public static double? ReadCpuSeconds(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");

            // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' are fixed.
            int close = stat.LastIndexOf(')');
            if (close < 0)
            {
                return null;
            }

            string[] fields = stat[(close + 2)..].Split(' ');

            // fields[0] is field 3 (state), so utime (field 14) is fields[11] and stime (15) is fields[12].
            if (fields.Length > 12
                && long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out long userTicks)
                && long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out long systemTicks))
            {
                return (userTicks + systemTicks) / TicksPerSecond;
            }
        }
        catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
        {
            // The process is gone or not readable.
        }

        return null;
    }
}
