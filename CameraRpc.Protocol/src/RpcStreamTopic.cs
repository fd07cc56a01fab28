using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// A per-subscriber topic: a generated opener binds the subscription's params exactly as a method's,
/// calls the <c>[RpcTopic]</c> method with them and the subscription's <see cref="CancellationToken"/>,
/// and hands the returned stream to <see cref="RpcEventStream.Start{T}"/>.
/// </summary>
/// <remarks>The opener has the shape of a method invoker, so the generator emits its binding with the same code.</remarks>
public sealed class RpcStreamTopic : RpcTopicSource
{
    private readonly RpcMethodInvoker _open;

    /// <param name="open">Binds the params, calls the topic's method and starts its stream; made by the generator.</param>
    public RpcStreamTopic(RpcMethodInvoker open)
    {
        ArgumentNullException.ThrowIfNull(open);
        _open = open;
    }

    internal override ValueTask<RpcInvokeResult> OpenAsync(RpcSubscription subscription, RpcInvocation invocation) => _open(invocation);

    internal override void Close(RpcSubscription subscription) => subscription.CancelStream();
}

/// <summary>Runs a per-subscriber topic's stream: each item is serialized and offered to its subscription.</summary>
public static class RpcEventStream
{
    /// <summary>
    /// Used by generated openers: starts pumping <paramref name="items"/> into the subscription being
    /// opened by <paramref name="invocation"/>. The stream ends the subscription with <c>completed</c>
    /// when it ends, <c>failed</c> when it throws (the log has it), and nothing at all when its token
    /// was cancelled (the subscription ended some other way).
    /// </summary>
    public static void Start<T>(in RpcInvocation invocation, IAsyncEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(write);
        RpcSubscription subscription = invocation.Subscription
            ?? throw new InvalidOperationException("RpcEventStream.Start is for generated topic openers only.");

        // On the thread pool: the stream's first MoveNextAsync may do real work before its first await,
        // and the subscribe answer should not wait for it.
        _ = Task.Run(() => PumpAsync(subscription, items, write));
    }

    private static async Task PumpAsync<T>(RpcSubscription subscription, IAsyncEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        CancellationToken token = subscription.StreamToken;
        try
        {
            await foreach (T item in items.WithCancellation(token).ConfigureAwait(false))
            {
                if (token.IsCancellationRequested)
                {
                    return;
                }

                RpcEventPayload payload = RpcEventPayload.Rent(out Utf8JsonWriter json);
                try
                {
                    write(json, item);
                    json.Flush();
                }
                catch
                {
                    json.Reset();
                    payload.Release();
                    throw;
                }

                subscription.Offer(payload);
                payload.Release();
            }

            subscription.End(RpcSubscriptionEndReason.Completed);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Unsubscribed, disconnected or shut down: whoever cancelled has ended the subscription.
        }
        catch (Exception exception)
        {
            subscription.Fail(exception);
        }
    }
}
