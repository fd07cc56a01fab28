using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace CameraRpc.Tests.TestSupport;

/// <summary>
/// The real <c>CameraRpc.Server</c> executable started as a child process on a free port, for tests of
/// process behaviour (signals, exit codes, startup lines, options from the environment).
/// </summary>
/// <remarks>
/// The executable is <c>$CAMERARPC_SERVER_EXE</c> when set (CI points it at the Native AOT build in
/// <c>dist/</c>), otherwise the apphost copied next to the tests. Unless the arguments say otherwise the
/// server listens on 127.0.0.1, port 0, without a log file. The port is read from the startup line.
/// </remarks>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];

    private ServerProcess(Process process) => _process = process;

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("CAMERARPC_SERVER_EXE") is { Length: > 0 } path
            ? path
            : Path.Combine(AppContext.BaseDirectory, "CameraRpc.Server");

    public int Port { get; private set; }

    public int ProcessId => _process.Id;

    public Uri WebSocketUri => new($"ws://127.0.0.1:{Port}/ws");

    public Uri HttpUri(string path = "/ws") => new($"http://127.0.0.1:{Port}{path}");

    /// <summary>Every line the process wrote so far, stdout and stderr interleaved.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return _lines.ToArray();
            }
        }
    }

    /// <summary>Starts the server and waits until it says it is listening.</summary>
    public static async Task<ServerProcess> StartAsync(CancellationToken cancellationToken, params string[] args) =>
        await StartAsync(args, null, cancellationToken);

    /// <param name="wrapper">A command that runs the server in the same process after setting something up, e.g. <c>prlimit --nofile=…</c>.</param>
    public static async Task<ServerProcess> StartAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken, IReadOnlyList<string>? wrapper = null)
    {
        ServerProcess server = Launch(WithDefaults(args), environment, wrapper);
        string started = await server.WaitForLineAsync(line => line.Contains("Server started successfully at ", StringComparison.Ordinal), cancellationToken);
        server.Port = int.Parse(StartedLine().Match(started).Groups["port"].Value);
        return server;
    }

    /// <summary>Runs the executable to completion (for commands and startup failures).</summary>
    public static async Task<(int ExitCode, IReadOnlyList<string> Lines)> RunToExitAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        await using ServerProcess process = Launch(args, environment);
        int code = await process.WaitForExitAsync(cancellationToken);
        return (code, process.Lines);
    }

    /// <summary>Starts the executable with exactly <paramref name="args"/>; nothing is awaited.</summary>
    public static ServerProcess Launch(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment, IReadOnlyList<string>? wrapper = null)
    {
        ProcessStartInfo info = StartInfo([.. wrapper ?? [], ExecutablePath, .. args], environment);
        info.RedirectStandardInput = true;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.Exited += (_, _) => server.OnExited();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>
    /// How every child of the tests starts: <paramref name="commandLine"/> (program first), output
    /// redirected, in the temporary folder, and with no CAMERARPC_* variable from the developer's shell,
    /// so that options and tokens under test come only from <paramref name="environment"/>.
    /// </summary>
    internal static ProcessStartInfo StartInfo(IReadOnlyList<string> commandLine, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(commandLine[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (string arg in commandLine.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("CAMERARPC_", StringComparison.Ordinal)).ToArray())
        {
            info.Environment.Remove(key);
        }

        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return info;
    }

    /// <summary>The first line (already written or still to come) that <paramref name="match"/> accepts.</summary>
    public Task<string> WaitForLineAsync(Func<string, bool> match, CancellationToken cancellationToken)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            foreach (string line in _lines)
            {
                if (match(line))
                {
                    return Task.FromResult(line);
                }
            }

            if (_exited.Task.IsCompleted)
            {
                throw new InvalidOperationException("The server exited before writing the line. Its output:\n" + string.Join("\n", _lines));
            }

            _waiters.Add((match, found));
        }

        return found.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Sends a POSIX signal (SIGTERM = 15, SIGINT = 2) to the server.</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public const int SIGINT = 2;
    public const int SIGTERM = 15;

    public Task<int> WaitForExitAsync(CancellationToken cancellationToken) => _exited.Task.WaitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        try
        {
            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }

        _process.Dispose();
    }

    private static List<string> WithDefaults(IReadOnlyList<string> args)
    {
        var all = new List<string>(args);
        if (!args.Contains("--host"))
        {
            all.AddRange(["--host", "127.0.0.1"]);
        }

        if (!args.Contains("--port"))
        {
            all.AddRange(["--port", "0"]);
        }

        if (!args.Contains("--log-file"))
        {
            all.AddRange(["--log-file", "none"]);
        }

        return all;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource<string>> matched = [];
        lock (_lines)
        {
            _lines.Add(line);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(line))
                {
                    matched.Add(_waiters[i].Found);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (TaskCompletionSource<string> found in matched)
        {
            found.TrySetResult(line);
        }
    }

    private void OnExited()
    {
        // Let the asynchronous readers drain the last lines before reporting the exit.
        _process.WaitForExit();
        List<TaskCompletionSource<string>> orphans;
        lock (_lines)
        {
            orphans = _waiters.Select(w => w.Found).ToList();
            _waiters.Clear();
        }

        foreach (TaskCompletionSource<string> orphan in orphans)
        {
            orphan.TrySetException(new InvalidOperationException("The server exited before writing the line. Its output:\n" + string.Join("\n", Lines)));
        }

        _exited.TrySetResult(_process.ExitCode);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"ws://[^\s:/]+:(?<port>\d+)/")]
    private static partial Regex StartedLine();
}
