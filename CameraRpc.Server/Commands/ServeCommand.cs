using System.Net;
using System.Runtime.InteropServices;
using CameraRpc.Protocol;
using CameraRpc.Server.Tools.Cli;
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
            log.OptionsRead(configFile);
        }

        var metrics = new ServerMetrics(() => sink!.DroppedLines);
        if (!AccessControl.TryCreate(options, metrics.RateLimited, out AccessControl? access, out string? accessError))
        {
            // Like a bad option: one line, and no server without the tokens the operator meant to give.
            stderr.WriteLine($"CameraRpc.Server: {accessError}");
            await sink!.CompleteAsync().ConfigureAwait(false);
            return ExitCodes.StartupFailure;
        }

        RpcMethodTable methods = ServerMethods.Create();
        var server = new RpcHost(options, methods, log, metrics, access);
        if (access.TokensFile is { } tokensFile)
        {
            log.TokensRead(tokensFile, access.Tokens!.Identities.Count(t => !t.HasEveryScope));
            server.Tokens.WarnIfReadableByOthers();
        }

        // Signals are ours before the first startup line: a supervisor that stops the server the moment
        // it reports itself started still gets a graceful shutdown, not the runtime's default exit.
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we shut down ourselves
            if (server.Shutdown.OnSignal(context.Signal))
            {
                sink!.CompleteAsync().Wait(TimeSpan.FromSeconds(1));
                Environment.Exit(ExitCodes.ImmediateExit);
            }
        }

        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        // SIGHUP re-reads --tokens-file (contract section 8) instead of ending the process.
        using PosixSignalRegistration hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            server.Tokens.Reload();
        });

        // Each connection is a file descriptor: take what the hard limit allows, and say so when even
        // that is short of --max-connections (clients past it would wait unaccepted, unlogged).
        if (OpenFilesLimit.RaiseToHardLimit() is (ulong before, ulong openFiles))
        {
            log.OpenFilesLimit(before, openFiles);
            if (openFiles < (ulong)options.MaxConnections + OpenFilesHeadroom)
            {
                log.OpenFilesLimitTooLow(openFiles, options.MaxConnections, OpenFilesHeadroom);
            }
        }

        try
        {
            server.Start();
        }
        catch (Exception exception) when (exception is HttpListenerException or System.Net.Sockets.SocketException)
        {
            // One line, in the log's format, on the console and in the log file (not repeated on stderr).
            log.CannotListen(options.Host, options.Port, exception.Message);
            await sink!.CompleteAsync().ConfigureAwait(false);
            return ExitCodes.StartupFailure;
        }

        // The executable owns its process, so it may decide how the runtime's threads are scheduled;
        // an RpcHost hosted in another process (the tests, for one) leaves that to its host.
        int eventLoops = SocketEventLoopScheduling.Apply(out string? schedulingError);
        log.SocketEventLoopScheduled(eventLoops, schedulingError);

        await server.Shutdown.StopRequested.ConfigureAwait(false);
        await server.StopAsync().ConfigureAwait(false);
        await sink!.CompleteAsync().ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
