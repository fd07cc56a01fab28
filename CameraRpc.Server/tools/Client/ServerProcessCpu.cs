using System.Diagnostics;
using System.Globalization;

namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// Finds the local process listening on a TCP port (through <c>/proc</c>, Linux only) and reads its CPU
/// time (<see cref="Process.TotalProcessorTime"/>), so a benchmark can be given per server-core-second.
/// </summary>
internal static class ServerProcessCpu
{
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
            using Process process = Process.GetProcessById(pid);
            return process.TotalProcessorTime.TotalSeconds;
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // The process is gone (ArgumentException, InvalidOperationException) or not ours to read.
            return null;
        }
    }
}
