using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CameraRpc.Tests.Hardening.Support;

/// <summary>
/// What a test can ask a running server from outside: <c>/healthz</c> connection count, <c>/metrics</c>
/// gauges, and (for the real executable) its RSS and open descriptors from <c>/proc</c>.
/// </summary>
public static partial class ServerProbe
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The <c>connections</c> number of <c>/healthz</c>.</summary>
    public static async Task<int> HealthConnectionsAsync(int port, CancellationToken cancellationToken)
    {
        string body = await s_http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz"), cancellationToken);
        using JsonDocument document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("connections").GetInt32();
    }

    /// <summary>The value of an unlabelled metric in <c>/metrics</c>.</summary>
    public static async Task<double> MetricAsync(int port, string name, CancellationToken cancellationToken)
    {
        string body = await s_http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"), cancellationToken);
        foreach (string line in body.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/metrics has no {name}:\n{body}");
    }

    /// <summary>
    /// Polls <paramref name="read"/> until <paramref name="done"/> accepts its value; returns the last value.
    /// The loop is bounded by the test's token; the pause between polls only spaces the requests out.
    /// </summary>
    /// <param name="within">When given, the last value is returned after this long even if not done (the caller asserts on it).</param>
    public static async Task<T> PollUntilAsync<T>(Func<CancellationToken, Task<T>> read, Func<T, bool> done, CancellationToken cancellationToken, TimeSpan? within = null)
    {
        long deadline = Environment.TickCount64 + (long)(within ?? TimeSpan.FromDays(1)).TotalMilliseconds;
        while (true)
        {
            T value = await read(cancellationToken);
            if (done(value) || Environment.TickCount64 > deadline)
            {
                return value;
            }

            await Task.Delay(25, cancellationToken);
        }
    }

    /// <summary>Resident set size of a process, in KiB (VmRSS of /proc/PID/status).</summary>
    public static long RssKib(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(Digits().Match(line).Value, CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    /// <summary>Open file descriptors of a process.</summary>
    public static int OpenDescriptors(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    /// <summary>Raises this process's soft open-files limit towards <paramref name="wanted"/>; returns the soft limit now in force.</summary>
    public static ulong EnsureOpenFiles(ulong wanted)
    {
        const int RLIMIT_NOFILE = 7;
        if (GetRLimit(RLIMIT_NOFILE, out RLimit limit) != 0)
        {
            return 0;
        }

        if (limit.Current < wanted)
        {
            var raised = new RLimit { Current = Math.Min(wanted, limit.Maximum), Maximum = limit.Maximum };
            if (SetRLimit(RLIMIT_NOFILE, ref raised) == 0)
            {
                return raised.Current;
            }
        }

        return limit.Current;
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrlimit")]
    private static extern int GetRLimit(int resource, out RLimit limit);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "setrlimit")]
    private static extern int SetRLimit(int resource, ref RLimit limit);

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();
}
