namespace CameraRpc.Protocol;

/// <summary>
/// The calls of a message that waits for a call slot at <c>--max-concurrency</c>, registered by id so that a
/// <c>$/cancelRequest</c> reaches them before they run (<see cref="RpcDispatcher.RegisterWaiting"/>).
/// </summary>
/// <remarks>
/// One per connection, reused for every message it holds, so that holding allocates nothing once warm.
/// Not thread-safe: used by whoever holds the waiting message (the read loop, then the dispatch that takes it).
/// </remarks>
public sealed class RpcWaitingCalls
{
    private RpcCall?[] _calls = new RpcCall?[1];
    private int _count;
    private bool _isBatch;

    /// <summary>
    /// True when the waiting message is one request and <c>$/cancelRequest</c> cancelled it: it can be answered
    /// -32800 at once (<see cref="RpcDispatcher.WriteCancelled"/>) instead of waiting for a slot.
    /// </summary>
    public bool IsCancelledRequest => !_isBatch && _count == 1 && _calls[0] is { CancelledByClient: true };

    /// <summary>Ends the registrations still here (the message was answered without them, or dropped).</summary>
    public void Release()
    {
        for (int i = 0; i < _count; i++)
        {
            if (_calls[i] is { } call)
            {
                _calls[i] = null;
                RpcCallRegistry.End(call);
            }
        }

        _count = 0;
        _isBatch = false;
    }

    internal void Reset(int count, bool isBatch)
    {
        if (count > _calls.Length)
        {
            _calls = new RpcCall?[Math.Max(count, _calls.Length * 2)];
        }

        _count = count;
        _isBatch = isBatch;
    }

    internal void Add(int index, RpcCall call) => _calls[index] = call;

    /// <summary>The call registered for element <paramref name="index"/> (null for none), handed over to its dispatch.</summary>
    internal RpcCall? Take(int index)
    {
        if (index >= _count)
        {
            return null;
        }

        RpcCall? call = _calls[index];
        _calls[index] = null;
        return call;
    }
}
