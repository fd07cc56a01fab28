using System.Net;
using System.Runtime.InteropServices;
using CameraRpc.Protocol;
using CameraRpc.Server.Cli;
using CameraRpc.Server.Configuration;
using CameraRpc.Server.Hosting;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Metrics;
using CameraRpc.Server.Platform;
using CameraRpc.Server.Security;
using CameraRpc.Server.Methods;

namespace CameraRpc.Server.Commands;

/// <summary>
/// <c>serve</c> (the default command): options → log → server → wait for SIGTERM/SIGINT → graceful
/// shutdown. A bad option or a port that cannot be bound is one clear line and exit code 1.
/// </summary>
internal static class ServeCommand
{
    /// <summary>Descriptors the process needs besides its connections: listener, log file, runtime, HTTP requests.</summary>
    private const ulong OpenFilesHeadroom = 64;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stderr)
    {
        OptionsResult loaded = OptionsLoader.Load(args, Environment.GetEnvironmentVariable);
        if (loaded.Options is not { } options)
        {
            stderr.WriteLine($"CameraRpc.Server: {loaded.Error}");
            return ExitCodes.StartupFailure;
        }

        if (!LogSink.TryCreate(options, out LogSink? sink, out string? logError))
        {
            stderr.WriteLine($"CameraRpc.Server: {logError}");
            return ExitCodes.StartupFailure;
        }

        var log = new ServerLog(sink!, options.LogLevel);
        if (loaded.ConfigFile is { } configFile)
        {
            log.Info($"Options read from {configFile}");
        }

        var metrics = new ServerMetrics(() => sink!.DroppedLines, (method, exception) => log.HandlerFailed(method.Name, exception));
        if (!AccessControl.TryCreate(options, metrics.RateLimited, out AccessControl? access, out string? accessError))
        {
            // Like a bad option: one line, and no server without the tokens the operator meant to give.
            stderr.WriteLine($"CameraRpc.Server: {accessError}");
            await sink!.CompleteAsync().ConfigureAwait(false);
            return ExitCodes.StartupFailure;
        }

        RpcMethodTable methods = ServerMethods.Create();
        var server = new RpcServer(options, methods, log, metrics, access);
        if (access.TokensFile is { } tokensFile)
        {
            log.Info($"Tokens read from {tokensFile}: {access.Tokens!.Identities.Count(t => !t.HasEveryScope)} token(s)");
            server.WarnIfTokensFileIsReadableByOthers();
        }

        // Signals are ours before the first startup line: a supervisor that stops the server the moment
        // it reports itself started still gets a graceful shutdown, not the runtime's default exit.
        int signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we shut down ourselves
            if (Interlocked.Increment(ref signals) == 1)
            {
                log.Info($"Received {context.Signal}, shutting down gracefully (a second signal exits at once)");
                server.RequestStop();
            }
            else
            {
                log.Warning($"Received {context.Signal} again, exiting at once");
                sink!.CompleteAsync().Wait(TimeSpan.FromSeconds(1));
                Environment.Exit(ExitCodes.StartupFailure);
            }
        }

        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        // SIGHUP re-reads --tokens-file (contract section 8) instead of ending the process.
        using PosixSignalRegistration hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            server.ReloadTokens();
        });

        // Each connection is a file descriptor: take what the hard limit allows, and say so when even
        // that is short of --max-connections (clients past it would wait unaccepted, unlogged).
        if (OpenFilesLimit.RaiseToHardLimit() is (ulong before, ulong openFiles))
        {
            log.Debug(before == openFiles ? $"Open files limit: {openFiles}" : $"Open files limit raised from {before} to {openFiles} (the hard limit)");
            if (openFiles < (ulong)options.MaxConnections + OpenFilesHeadroom)
            {
                log.Warning($"Open files limit is {openFiles}, too low for --max-connections {options.MaxConnections}: "
                    + $"about {(openFiles > OpenFilesHeadroom ? openFiles - OpenFilesHeadroom : 0)} clients can connect; "
                    + "raise it with LimitNOFILE= (systemd) or ulimit -n");
            }
        }

        try
        {
            server.Start();
        }
        catch (Exception exception) when (exception is HttpListenerException or System.Net.Sockets.SocketException)
        {
            // One line, in the log's format, on the console and in the log file (not repeated on stderr).
            log.Error($"cannot listen on {options.Host}:{options.Port}: {exception.Message}");
            await sink!.CompleteAsync().ConfigureAwait(false);
            return ExitCodes.StartupFailure;
        }

        // The executable owns its process, so it may decide how the runtime's threads are scheduled;
        // an RpcServer hosted in another process (the tests, for one) leaves that to its host.
        int eventLoops = SocketEventLoopScheduling.Apply(out string? schedulingError);
        log.Debug(eventLoops > 0
            ? $"Socket event loop: {eventLoops} thread(s) set to SCHED_BATCH (woken without preempting calls)"
            : $"Socket event loop scheduling unchanged: {schedulingError}");

        await server.StopRequested.ConfigureAwait(false);
        await server.StopAsync().ConfigureAwait(false);
        await sink!.CompleteAsync().ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
