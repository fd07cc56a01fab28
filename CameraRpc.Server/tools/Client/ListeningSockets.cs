using System.Globalization;

namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// Finds the sockets listening on a TCP port through Linux's /proc, for <c>bench</c> to find the local
/// server process it measures. (It reads the kernel's whole socket table, which on a busy host is
/// large: fine for a load generator, not for the server's own startup.)
/// </summary>
internal static class ListeningSockets
{
    /// <summary>The inode numbers of the sockets listening on <paramref name="port"/> (IPv4 and IPv6); empty off Linux.</summary>
    public static HashSet<string> InodesFor(int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        Collect("/proc/net/tcp", port, inodes);
        Collect("/proc/net/tcp6", port, inodes);
        return inodes;
    }

    /// <summary>True when <paramref name="fdLink"/> (the target of a /proc/PID/fd link) is one of <paramref name="inodes"/>.</summary>
    public static bool IsSocketInode(string? fdLink, HashSet<string> inodes) =>
        fdLink is not null && fdLink.StartsWith("socket:[", StringComparison.Ordinal) && inodes.Contains(fdLink[8..^1]);

    private static void Collect(string table, int port, HashSet<string> inodes)
    {
        if (!File.Exists(table))
        {
            return;
        }

        string portSuffix = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        bool header = true;
        foreach (string line in File.ReadLines(table))
        {
            if (header)
            {
                header = false;
                continue;
            }

            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...; state 0A is LISTEN
            string[] columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length > 9 && columns[3] == "0A" && columns[1].EndsWith(portSuffix, StringComparison.Ordinal))
            {
                inodes.Add(columns[9]);
            }
        }
    }
}
