using System.Globalization;

namespace CameraRpc.Server.Tools.Client;

/// <summary>The resident memory of a local process (VmRSS of <c>/proc/PID/status</c>, Linux only).</summary>
internal static class ServerProcessMemory
{
    /// <summary>RSS of <paramref name="pid"/> in KiB, or null when it cannot be read (not Linux, the process gone).</summary>
    public static long? ReadRssKiB(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status"))
            {
                // "VmRSS:     12345 kB"
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long kib))
                {
                    return kib;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or the process is gone or not ours.
        }

        return null;
    }
}
