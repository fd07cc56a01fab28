using System.Text.Json;
using CameraRpc.Server.Tools.Cli;
using CameraRpc.Server.Tools.Client;

namespace CameraRpc.Server.Tools.Watch;

/// <summary>
/// The loop of <c>watch</c> over one connection: subscribe, print each event as one line, and end on
/// the server's <c>end</c>, after <c>--count</c> events, or when asked to stop (Ctrl+C), unsubscribing
/// first in the last two cases. Returns the exit code (contract §1, as <c>call</c>'s).
/// </summary>
/// <remarks>
/// Events go to <c>events</c> (stdout: one JSON line each, for a pipe); everything else (the end, missed
/// events, a refused subscribe) is one line on <c>diagnostics</c> (stderr). A receive is never cancelled to
/// stop: cancelling a WebSocket receive aborts the connection, and the unsubscribe still needs it. The
/// stop request is raced against the pending receive instead.
/// </remarks>
internal sealed class SubscriptionWatcher
{
    private const long SubscribeId = 1;
    private const long UnsubscribeId = 2;

    private readonly IRpcMessageChannel _channel;
    private readonly TextWriter _events;
    private readonly TextWriter _diagnostics;

    public SubscriptionWatcher(IRpcMessageChannel channel, TextWriter events, TextWriter diagnostics)
    {
        _channel = channel;
        _events = events;
        _diagnostics = diagnostics;
    }

    /// <summary>How long the <c>rpc.subscribe</c> answer may take.</summary>
    public TimeSpan AnswerTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the <c>rpc.unsubscribe</c> answer may take before <c>watch</c> leaves without it.</summary>
    public TimeSpan UnsubscribeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Watches <paramref name="topic"/> until the server ends it, <paramref name="count"/> events came, or <paramref name="stop"/>.</summary>
    /// <exception cref="RpcConnectionException">The connection closed or broke before the subscription ended (exit 2 for the caller).</exception>
    public async Task<int> RunAsync(string topic, string? paramsJson, int? count, CancellationToken stop)
    {
        using var abort = new CancellationTokenSource();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration onStop = stop.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), stopped);
        Task<RpcAnswer>? pending = null;
        try
        {
            abort.CancelAfter(AnswerTimeout);
            await _channel.SendMessageAsync(SubscriptionMessages.Subscribe(topic, paramsJson, SubscribeId), abort.Token).ConfigureAwait(false);

            // 1. The subscribe answer. Stopping before it came needs no unsubscribe: closing the connection ends it.
            string subscription;
            while (true)
            {
                pending ??= _channel.ReceiveMessageAsync(abort.Token);
                if (await Task.WhenAny(pending, stopped.Task).ConfigureAwait(false) != pending)
                {
                    return ExitCodes.Success;
                }

                Task<RpcAnswer> received = pending;
                pending = null;
                RpcAnswer message = await TakeAsync(received, abort, $"no answer to rpc.subscribe within {AnswerTimeout.TotalSeconds:0} s").ConfigureAwait(false);
                if (!SubscriptionMessages.IsAnswerTo(message, SubscribeId))
                {
                    continue;
                }

                if (message.IsResult && message.Result.ValueKind == JsonValueKind.String)
                {
                    subscription = message.Result.GetString()!;
                    break;
                }

                string what = message.IsError ? RpcAnswer.Format(message.Error, indented: false) : RpcAnswer.Format(message.Root, indented: false);
                await _diagnostics.WriteLineAsync($"watch: the server refused to subscribe to {topic}: {what}").ConfigureAwait(false);
                return ExitCodes.ErrorAnswer;
            }

            abort.CancelAfter(Timeout.InfiniteTimeSpan);

            // 2. The events, until the server ends the subscription, --count is reached, or stop.
            long lastSeq = 0;
            int printed = 0;
            while (count is null || printed < count)
            {
                pending ??= _channel.ReceiveMessageAsync(abort.Token);
                if (await Task.WhenAny(pending, stopped.Task).ConfigureAwait(false) != pending)
                {
                    break;
                }

                Task<RpcAnswer> received = pending;
                pending = null;
                SubscriptionMessage message = SubscriptionMessages.Classify(await TakeAsync(received, abort, null).ConfigureAwait(false), subscription);
                if (message.Kind == SubscriptionMessageKind.None)
                {
                    continue;
                }

                await ReportMissedAsync(lastSeq, message.Seq).ConfigureAwait(false);
                lastSeq = Math.Max(lastSeq, message.Seq);
                if (message.Kind == SubscriptionMessageKind.End)
                {
                    await _diagnostics.WriteLineAsync($"watch: the server ended the subscription ({message.EndReason})").ConfigureAwait(false);
                    return ExitCodes.Success;
                }

                await _events.WriteLineAsync(SubscriptionMessages.EventLine(message.Seq, message.Result)).ConfigureAwait(false);
                printed++;
            }

            // 3. Unsubscribe and wait (briefly) for its answer; nothing more is printed.
            await UnsubscribeAsync(subscription, pending, abort).ConfigureAwait(false);
            pending = null;
            return ExitCodes.Success;
        }
        finally
        {
            // A receive still pending ends when the caller closes the connection; its failure is expected, not news.
            if (pending is { IsCompleted: false })
            {
                _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }
    }

    /// <summary>The pending receive's message; a timeout of ours becomes a connection failure with <paramref name="timeoutText"/>.</summary>
    private static async Task<RpcAnswer> TakeAsync(Task<RpcAnswer> receive, CancellationTokenSource abort, string? timeoutText)
    {
        try
        {
            return await receive.ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (abort.IsCancellationRequested)
        {
            throw new RpcConnectionException(timeoutText ?? "the connection was given up", exception);
        }
    }

    private async Task UnsubscribeAsync(string subscription, Task<RpcAnswer>? pending, CancellationTokenSource abort)
    {
        abort.CancelAfter(UnsubscribeTimeout);
        try
        {
            await _channel.SendMessageAsync(SubscriptionMessages.Unsubscribe(subscription, UnsubscribeId), abort.Token).ConfigureAwait(false);
            while (true)
            {
                RpcAnswer message = await (pending ?? _channel.ReceiveMessageAsync(abort.Token)).ConfigureAwait(false);
                pending = null;
                if (SubscriptionMessages.IsAnswerTo(message, UnsubscribeId)
                    || SubscriptionMessages.Classify(message, subscription).Kind == SubscriptionMessageKind.End)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            await _diagnostics.WriteLineAsync($"watch: no answer to rpc.unsubscribe within {UnsubscribeTimeout.TotalSeconds:0} s; closing anyway").ConfigureAwait(false);
        }
        catch (RpcConnectionException)
        {
            // The connection ended while we were leaving: the subscription ended with it.
        }
    }

    private async Task ReportMissedAsync(long lastSeq, long seq)
    {
        if (seq > lastSeq + 1)
        {
            long missed = seq - lastSeq - 1;
            await _diagnostics.WriteLineAsync($"watch: {missed} event{(missed == 1 ? "" : "s")} missed before seq {seq} (dropped or coalesced by the server)").ConfigureAwait(false);
        }
    }
}
