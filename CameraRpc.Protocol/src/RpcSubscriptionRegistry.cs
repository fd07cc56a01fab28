using System.Security.Cryptography;

namespace CameraRpc.Protocol;

/// <summary>
/// The subscriptions of one connection: made on its first <c>rpc.subscribe</c>, so a connection that
/// never subscribes pays nothing. Enforces <c>--max-subscriptions</c>, makes the ids, and ends or drops
/// every subscription when the connection shuts down or goes away.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class RpcSubscriptionRegistry
{
    /// <summary>Random bytes in an id: 128 bits, so ids can be neither guessed nor collide.</summary>
    private const int IdBytes = 16;

    private readonly Lock _lock = new();
    // The open subscriptions, the first _openCount of the array. A list searched by id rather than a
    // dictionary: a connection holds a few (--max-subscriptions, default 100), unsubscribing is rare,
    // and an idle connection with one subscription keeps 32 bytes here instead of about 200.
    private RpcSubscription[] _open = [];
    private int _openCount;
    private readonly int _max;
    private bool _closed;

    public RpcSubscriptionRegistry(RpcContext context, IRpcSubscriptionSink sink, int maxSubscriptions, IRpcSubscriptionObserver? observer)
    {
        Context = context;
        Sink = sink;
        _max = maxSubscriptions;
        Observer = observer;
    }

    public RpcContext Context { get; }

    public IRpcSubscriptionSink Sink { get; }

    public IRpcSubscriptionObserver? Observer { get; }

    /// <summary>Subscriptions open now (the server has not ended them and the client has not unsubscribed).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _openCount;
            }
        }
    }

    /// <summary>
    /// Opens a subscription to <paramref name="topic"/> with the params of <paramref name="topicParams"/>
    /// and writes its id as the result of <paramref name="subscribe"/>; the subscription starts (its
    /// events flow) once the answer it was written into is queued.
    /// </summary>
    public async ValueTask<RpcInvokeResult> SubscribeAsync(RpcTopicInfo topic, RpcInvocation subscribe, ReadOnlyMemory<byte> topicParams, RpcParamsKind paramsKind)
    {
        RpcSubscription subscription;
        lock (_lock)
        {
            if (_closed)
            {
                return RpcInvokeResult.Refused(RpcErrorCode.ServerShuttingDown);
            }

            if (_openCount >= _max)
            {
                return RpcInvokeResult.Refused(RpcErrorCode.TooManySubscriptions);
            }

            subscription = new RpcSubscription(this, topic, NewId());
            if (_openCount == _open.Length)
            {
                Array.Resize(ref _open, Math.Max(1, Math.Min(_max, _open.Length * 2)));
            }

            _open[_openCount++] = subscription;
        }

        Observer?.OnOpening(subscription);
        CancellationToken token = topic.Source is RpcStreamTopic ? subscription.CreateStreamToken() : default;
        var open = new RpcInvocation(topicParams, paramsKind, subscribe.Result, Context, token) { Subscription = subscription };
        RpcInvokeResult opened;
        try
        {
            opened = await topic.Source.OpenAsync(subscription, open).ConfigureAwait(false);
        }
        catch
        {
            Forget(subscription);
            throw;
        }

        if (!opened.IsSuccess)
        {
            Forget(subscription);
            return opened;
        }

        lock (_lock)
        {
            if (_closed)
            {
                // The connection went away while the topic was opening: nothing of it may stay behind.
                // (CloseAll took it out of the registry; if it was still open there, it was reported abandoned.)
                subscription.Close();
                return RpcInvokeResult.Refused(RpcErrorCode.ServerShuttingDown);
            }
        }

        subscribe.Result.WriteStringValue(subscription.Id);
        Observer?.OnSubscribed(subscription);
        if (subscribe.Output is { } output && !subscribe.IsNotification)
        {
            output.HoldUntilQueued(subscription);
        }
        else
        {
            // No answer will carry the id (a notification): nobody could ever unsubscribe it.
            Unsubscribe(subscription.Id);
        }

        return RpcInvokeResult.Success;
    }

    /// <summary>The client's <c>rpc.unsubscribe</c>: true when the subscription was open.</summary>
    public bool Unsubscribe(string id)
    {
        RpcSubscription? subscription;
        lock (_lock)
        {
            subscription = RemoveOpen(id);
            if (subscription is null)
            {
                return false;
            }
        }

        bool wasOpen = subscription.Close();
        if (wasOpen)
        {
            Observer?.OnUnsubscribed(subscription);
        }

        return wasOpen;
    }

    /// <summary>The server ends every subscription with <paramref name="reason"/> (shutdown): each client gets its <c>end</c>.</summary>
    public void EndAll(RpcSubscriptionEndReason reason)
    {
        foreach (RpcSubscription subscription in Snapshot(close: false))
        {
            subscription.End(reason);
        }
    }

    /// <summary>The connection is gone: every subscription stops, silently, and nothing of it stays behind. Later subscribes are refused.</summary>
    public void CloseAll()
    {
        foreach (RpcSubscription subscription in Snapshot(close: true))
        {
            if (subscription.Close())
            {
                Observer?.OnAbandoned(subscription);
            }
        }
    }

    internal void OnEnded(RpcSubscription subscription, RpcSubscriptionEndReason reason)
    {
        lock (_lock)
        {
            RemoveOpen(subscription.Id);
        }

        Observer?.OnEnded(subscription, reason);
    }

    internal void OnFailed(RpcSubscription subscription, Exception exception) => Observer?.OnFailed(subscription, exception);

    private RpcSubscription[] Snapshot(bool close)
    {
        lock (_lock)
        {
            _closed |= close;
            RpcSubscription[] all = _open.AsSpan(0, _openCount).ToArray();
            if (close)
            {
                _open = [];
                _openCount = 0;
            }

            return all;
        }
    }

    private void Forget(RpcSubscription subscription)
    {
        lock (_lock)
        {
            RemoveOpen(subscription.Id);
        }

        if (subscription.Close())
        {
            Observer?.OnAbandoned(subscription);
        }
    }

    /// <summary>Takes the open subscription with <paramref name="id"/> out of the list (under the lock); null when none.</summary>
    private RpcSubscription? RemoveOpen(string id)
    {
        for (int i = 0; i < _openCount; i++)
        {
            RpcSubscription subscription = _open[i];
            if (string.Equals(subscription.Id, id, StringComparison.Ordinal))
            {
                _openCount--;
                _open[i] = _open[_openCount];
                _open[_openCount] = null!;
                return subscription;
            }
        }

        return null;
    }

    private static string NewId()
    {
        Span<byte> random = stackalloc byte[IdBytes];
        RandomNumberGenerator.Fill(random);
        return Convert.ToHexStringLower(random);
    }
}
