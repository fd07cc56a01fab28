using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// The fan-out benchmark (<c>bench --subscribers N</c>, issue 14): N subscribers of <c>bench.events</c> that
/// keep up, K that stop reading, one publisher inside the server (<c>bench.publish</c>, served with
/// <c>serve --bench-topics on</c>) started through a separate control connection; then delivered events per
/// second, publish-to-receive latency, <c>seq</c> gaps, and the server's memory per idle subscription.
/// </summary>
/// <remarks>
/// <para>Phases: connect every subscriber (ramped, as <c>bench</c> connects), read the server's RSS; subscribe
/// every one, read it again (the difference is what the subscriptions cost, apart from the connections); then,
/// with events to publish, call <c>bench.publish</c> and wait until every reading subscriber has the last
/// event, or none has had anything for <see cref="FanOutOptions.Grace"/>.</para>
/// <para>Latency assumes the server shares this host's monotonic clock: each event carries the server's
/// <see cref="Stopwatch.GetTimestamp"/> at publish, which on Linux is CLOCK_MONOTONIC in nanoseconds in every
/// process. It is reported only for a loopback URL and when the server's timestamp frequency (in its
/// <c>bench.publish</c> answer) is this process's.</para>
/// </remarks>
internal sealed class FanOutBench
{
    private readonly FanOutOptions _options;

    public FanOutBench(FanOutOptions options) => _options = options;

    /// <summary>Runs the whole fan-out: connect, subscribe, publish, drain, close.</summary>
    public async Task<FanOutResult> RunAsync(CancellationToken cancellationToken)
    {
        int? pid = _options.ServerPid;
        long? rssBefore = pid is int p0 ? ServerProcessMemory.ReadRssKiB(p0) : null;
        (List<FanOutSubscriber> subscribers, int failed, string? firstConnectError) = await ConnectAllAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (subscribers.Count == 0)
            {
                return Result(subscribers, failed, 0, firstConnectError, null, null, null, null, rssBefore, null, null);
            }

            long? rssConnected = await ReadSettledRssAsync(cancellationToken).ConfigureAwait(false);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task[] loops = subscribers.Select(s => s.RunAsync(stop.Token)).ToArray();
            (int subscribed, string? firstProblem) = await WaitForSubscriptionsAsync(subscribers, cancellationToken).ConfigureAwait(false);
            long? rssSubscribed = await ReadSettledRssAsync(cancellationToken).ConfigureAwait(false);

            PublishAnswer? answer = null;
            double? serverCpu = null;
            long? serverDropped = null;
            if (_options.Events > 0 && firstProblem is null)
            {
                long? droppedBefore = await ServerDroppedEvents.ReadAsync(_options.Url, FanOutOptions.Topic, _options.AuthToken, cancellationToken).ConfigureAwait(false);
                double? cpuStart = pid is int p1 ? ServerProcessCpu.ReadCpuSeconds(p1) : null;
                (answer, firstProblem) = await PublishAsync(cancellationToken).ConfigureAwait(false);
                if (answer is not null)
                {
                    await WaitForDeliveriesAsync(subscribers, answer.Published, cancellationToken).ConfigureAwait(false);
                }

                double? cpuEnd = pid is int p2 ? ServerProcessCpu.ReadCpuSeconds(p2) : null;
                serverCpu = cpuStart is double c0 && cpuEnd is double c1 ? c1 - c0 : null;
                long? droppedAfter = await ServerDroppedEvents.ReadAsync(_options.Url, FanOutOptions.Topic, _options.AuthToken, cancellationToken).ConfigureAwait(false);
                serverDropped = droppedAfter - droppedBefore;
            }

            stop.Cancel();
            await Task.WhenAll(loops).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return Result(subscribers, failed, subscribed, firstConnectError, firstProblem, answer, serverCpu, serverDropped, rssBefore, rssConnected, rssSubscribed);
        }
        finally
        {
            foreach (FanOutSubscriber subscriber in subscribers)
            {
                subscriber.Dispose();
            }
        }
    }

    /// <summary>The figures of a <c>bench.publish</c> answer.</summary>
    private sealed record PublishAnswer(long Published, int Subscribers, double ElapsedMs, long TimestampFrequency);

    private async Task<(List<FanOutSubscriber> Subscribers, int Failed, string? FirstError)> ConnectAllAsync(CancellationToken cancellationToken)
    {
        IPEndPoint? endpoint = await SelfFramedConnect.ResolveAsync(_options.Url, cancellationToken).ConfigureAwait(false);
        int total = _options.Subscribers + _options.Stalled;
        if (endpoint is null)
        {
            return ([], total, $"cannot connect to {_options.Url}: cannot resolve {_options.Url.DnsSafeHost}");
        }

        var opened = new FanOutSubscriber?[total];
        int failed = 0;
        string? firstError = null;
        async Task ConnectOneAsync(int index)
        {
            bool stalled = index >= _options.Subscribers;
            (Socket? socket, byte[] alreadyReceived, _, string? error) = await SelfFramedConnect.ConnectAsync(
                endpoint, _options.Url, _options.AuthToken, _options.ConnectTimeout,
                stalled ? FanOutOptions.StalledReceiveBufferBytes : 0, cancellationToken).ConfigureAwait(false);
            if (socket is not null)
            {
                opened[index] = new FanOutSubscriber(socket, alreadyReceived, stalled);
                return;
            }

            lock (opened)
            {
                failed++;
                firstError ??= error;
            }
        }

        await SelfFramedConnect.RampAsync(total, _options.MaxPendingConnects, ConnectOneAsync, started: null, cancellationToken).ConfigureAwait(false);
        return ([.. opened.OfType<FanOutSubscriber>()], failed, firstError);
    }

    /// <summary>Waits for every subscribe answer (each within the connect timeout); how many succeeded, and the first refusal.</summary>
    private async Task<(int Subscribed, string? FirstProblem)> WaitForSubscriptionsAsync(List<FanOutSubscriber> subscribers, CancellationToken cancellationToken)
    {
        Task all = Task.WhenAll(subscribers.Select(s => s.Subscribed));
        try
        {
            await all.WaitAsync(_options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Counted below: a subscriber without an answer is not subscribed.
        }

        int subscribed = 0;
        string? firstProblem = null;
        foreach (FanOutSubscriber subscriber in subscribers)
        {
            if (subscriber.Subscribed is { IsCompletedSuccessfully: true, Result: null })
            {
                subscribed++;
            }
            else
            {
                firstProblem ??= subscriber.Subscribed.IsCompletedSuccessfully
                    ? Explain(subscriber.Subscribed.Result!)
                    : $"no subscribe answer within {_options.ConnectTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
            }
        }

        return (subscribed, firstProblem);
    }

    /// <summary>Calls <c>bench.publish</c> on a connection of its own and waits for its answer (the publisher is done then).</summary>
    private async Task<(PublishAnswer? Answer, string? Problem)> PublishAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using RpcClient control = await RpcClient.ConnectAsync(_options.Url, _options.AuthToken, _options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            string parameters = string.Create(CultureInfo.InvariantCulture, $$"""{"events":{{_options.Events}},"rate":{{_options.Rate}},"size":{{_options.Size}}}""");
            RpcAnswer answer = await control.CallAsync(FanOutOptions.PublishMethod, parameters, cancellationToken).ConfigureAwait(false);
            if (!answer.IsResult || answer.Result.ValueKind != JsonValueKind.Object)
            {
                return (null, Explain($"{FanOutOptions.PublishMethod} refused: {answer.Text}"));
            }

            JsonElement r = answer.Result;
            return (new PublishAnswer(
                r.GetProperty("published"u8).GetInt64(),
                r.GetProperty("subscribers"u8).GetInt32(),
                r.GetProperty("elapsedMs"u8).GetDouble(),
                r.GetProperty("timestampFrequency"u8).GetInt64()), null);
        }
        catch (RpcConnectionException exception)
        {
            return (null, $"control connection: {exception.Message}");
        }
        catch (Exception exception) when (exception is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return (null, $"{FanOutOptions.PublishMethod} answered something else than its figures: {exception.Message}");
        }
    }

    /// <summary>Until every reading subscriber has event <paramref name="published"/>, or none got anything for the grace period.</summary>
    private async Task WaitForDeliveriesAsync(List<FanOutSubscriber> subscribers, long published, CancellationToken cancellationToken)
    {
        long lastTotal = -1;
        long lastProgress = Stopwatch.GetTimestamp();
        while (true)
        {
            bool done = true;
            long total = 0;
            foreach (FanOutSubscriber subscriber in subscribers)
            {
                if (subscriber.IsStalled)
                {
                    continue;
                }

                total += subscriber.Delivered;
                done &= subscriber.Dropped || subscriber.LastSeq >= published;
            }

            if (done)
            {
                return;
            }

            if (total != lastTotal)
            {
                lastTotal = total;
                lastProgress = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastProgress) >= _options.Grace)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The server's RSS once it has been quiet for <see cref="FanOutOptions.Settle"/>; null without a server pid.</summary>
    private async Task<long?> ReadSettledRssAsync(CancellationToken cancellationToken)
    {
        if (_options.ServerPid is not int pid)
        {
            return null;
        }

        await Task.Delay(_options.Settle, cancellationToken).ConfigureAwait(false);
        return ServerProcessMemory.ReadRssKiB(pid);
    }

    /// <summary>A refusal, with what to do when it is the server running without <c>--bench-topics on</c>.</summary>
    private static string Explain(string problem) =>
        problem.Contains("\"reason\":\"unknown\"", StringComparison.Ordinal) || problem.Contains("-32601", StringComparison.Ordinal)
            ? problem + " (start the server with --bench-topics on)"
            : problem;

    private FanOutResult Result(
        List<FanOutSubscriber> subscribers, int failed, int subscribed, string? firstConnectError, string? firstProblem,
        PublishAnswer? answer, double? serverCpu, long? serverDropped, long? rssBefore, long? rssConnected, long? rssSubscribed)
    {
        long published = answer?.Published ?? 0;
        var latency = new LatencyHistogram();
        long delivered = 0, gaps = 0, firstAt = long.MaxValue, lastAt = 0;
        int readers = 0, behind = 0, dropped = 0;
        foreach (FanOutSubscriber subscriber in subscribers)
        {
            if (subscriber.IsStalled)
            {
                continue;
            }

            if (subscriber.Subscribed is { IsCompletedSuccessfully: true, Result: null })
            {
                readers++;
            }

            delivered += subscriber.Delivered;
            gaps += subscriber.GapEvents;
            behind += answer is not null && subscriber.Delivered < published ? 1 : 0;
            dropped += subscriber.Dropped ? 1 : 0;
            firstProblem ??= subscriber.Problem;
            latency.Add(subscriber.Latency);
            if (subscriber.FirstAt != 0)
            {
                firstAt = Math.Min(firstAt, subscriber.FirstAt);
                lastAt = Math.Max(lastAt, subscriber.LastAt);
            }
        }

        string? latencyUnavailable = answer is null ? "nothing published"
            : !ServerProcessCpu.IsLocalHost(_options.Url) ? "the server is not on this host (its clock is not this host's)"
            : answer.TimestampFrequency != Stopwatch.Frequency ? $"the server's timestamps tick {answer.TimestampFrequency}/s, this process's {Stopwatch.Frequency}/s"
            : null;
        return new FanOutResult
        {
            Options = _options,
            ConnectionsOpened = subscribers.Count,
            ConnectionsFailed = failed,
            Subscribed = subscribed,
            Dropped = dropped,
            Published = published,
            ServerSubscribers = answer?.Subscribers,
            PublishElapsed = answer is null ? null : TimeSpan.FromMilliseconds(answer.ElapsedMs),
            Delivered = delivered,
            Expected = published * readers,
            GapEvents = gaps,
            SubscribersBehind = behind,
            DeliverySpan = lastAt > firstAt ? Stopwatch.GetElapsedTime(firstAt, lastAt) : TimeSpan.Zero,
            Latency = latencyUnavailable is null ? latency : null,
            LatencyUnavailable = latencyUnavailable,
            RssBeforeKiB = rssBefore,
            RssConnectedKiB = rssConnected,
            RssSubscribedKiB = rssSubscribed,
            ServerCpuSeconds = serverCpu,
            ServerDropped = serverDropped,
            FirstProblem = firstProblem,
            FirstConnectError = firstConnectError,
        };
    }
}
