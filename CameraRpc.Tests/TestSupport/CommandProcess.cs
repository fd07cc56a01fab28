using System.Diagnostics;

namespace CameraRpc.Tests.TestSupport;

/// <summary>
/// Runs one client command of the real executable (<c>call</c>, <c>probe</c>, <c>bench</c>) as a child
/// process to completion, with its stdout and stderr kept apart: the exit code and where each line went
/// are what an operator's script sees.
/// </summary>
/// <remarks>
/// The executable is <see cref="ServerProcess.ExecutablePath"/>. Its output is redirected, so the commands
/// print as they do into a pipe (compact JSON, no progress line). A cancelled run kills the child.
/// </remarks>
public static class CommandProcess
{
    /// <summary>What the command left behind.</summary>
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr)
    {
        public string[] StdoutLines => Lines(Stdout);

        public string[] StderrLines => Lines(Stderr);

        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";

        private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    }

    public static Task<Outcome> RunAsync(CancellationToken cancellationToken, params string[] args) =>
        RunAsync(null, cancellationToken, args);

    /// <summary>Runs the command with <paramref name="environment"/> added to its (CAMERARPC_*-free) environment.</summary>
    public static async Task<Outcome> RunAsync(IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken, params string[] args)
    {
        ProcessStartInfo info = ServerProcess.StartInfo([ServerProcess.ExecutablePath, .. args], environment);
        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"{info.FileName} did not start");
        try
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return new Outcome(process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
