using System.Text;
using CameraRpc.Server.Cli;
using CameraRpc.Server.Commands;
using CameraRpc.Server.Tools.Cli;
using CameraRpc.Server.Tools.Commands;

namespace CameraRpc.Server;

/// <summary>Entry point: picks the command from argv, runs it, returns its exit code (CONTRACT section 1).</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        Console.OutputEncoding = Encoding.UTF8;
        string command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "serve";
        string[] rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;

        if (args is ["--help"] or ["-h"] or ["help"] || (rest is ["--help"] or ["-h"]))
        {
            Console.Out.Write(Usage.Text);
            return ExitCodes.Success;
        }

        if (args is ["--version"] || (command == "serve" && rest is ["--version"]))
        {
            Console.Out.WriteLine($"CameraRpc.Server {Usage.Version}");
            return ExitCodes.Success;
        }

        // Ctrl+C stops bench and watch cleanly (a report, an unsubscribe); a second one ends the process.
        // serve has its own signal handling (graceful shutdown); call and probe just end.
        using var cancel = new CancellationTokenSource();
        if (command is "bench" or "watch")
        {
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = !cancel.IsCancellationRequested;
                cancel.Cancel();
            };
        }

        switch (command)
        {
            case "serve":
                return await ServeCommand.RunAsync(rest, Console.Error).ConfigureAwait(false);
            case "call":
                return await CallCommand.RunAsync(rest, Console.Out, Console.Error, cancel.Token).ConfigureAwait(false);
            case "probe":
                return await ProbeCommand.RunAsync(rest, Console.Out, Console.Error, cancel.Token).ConfigureAwait(false);
            case "bench":
                return await BenchCommand.RunAsync(rest, Console.Out, Console.Error, cancel.Token).ConfigureAwait(false);
            case "watch":
                return await WatchCommand.RunAsync(rest, Console.Out, Console.Error, cancel.Token).ConfigureAwait(false);
            default:
                Console.Error.WriteLine($"CameraRpc.Server: unknown command '{command}' (try --help)");
                return ExitCodes.UsageError;
        }
    }
}
