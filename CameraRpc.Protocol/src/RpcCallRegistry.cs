using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// The calls of one connection that a <c>$/cancelRequest</c> may cancel. Each call with an id gets a
/// cancellation source of its own (pooled, so a warm call allocates nothing), which the connection's own
/// token (disconnect, shutdown) cancels too; but only a call that a later message could still reach is
/// registered by its id: one that did not complete synchronously, or one waiting for a call slot.
/// </summary>
/// <remarks>
/// <para>Thread-safe. Made on a WebSocket connection's first call; HTTP requests have none.</para>
/// <para>
/// Why a synchronous call need not be registered: a connection's read loop reads its next message only
/// after the dispatch of the current one returned, so no cancel can be read while a call runs
/// synchronously. Such a call takes the spare source (<see cref="Rent"/>, one atomic exchange) and gives it
/// back (<see cref="End"/>), never taking the lock. A message read while another waits for a slot may
/// be dispatched beside the waiting one's cancels; that is why waiting calls are registered at once.
/// </para>
/// </remarks>
internal sealed class RpcCallRegistry
{
    private readonly Lock _lock = new();
    private readonly List<RpcCall> _running = [];
    private readonly Stack<RpcCall> _free = new();
    private RpcCall? _spare; // the source of the next call, taken and given back without the lock
    private CancellationTokenRegistration _registration;
    private bool _connectionCancelled;

    /// <summary>Registers a call with <paramref name="rawId"/> and gives it a token cancelled by either the client or <paramref name="connection"/>.</summary>
    public RpcCall Begin(ReadOnlySpan<byte> rawId, CancellationToken connection)
    {
        RpcCall call = Rent(connection);
        Register(call, rawId, connection);
        return call;
    }

    /// <summary>A call's source, not yet findable by id: cancelled only by <paramref name="connection"/> (if it already is).</summary>
    public RpcCall Rent(CancellationToken connection)
    {
        RpcCall? call = Interlocked.Exchange(ref _spare, null);
        if (call is null)
        {
            lock (_lock)
            {
                call = _free.Count > 0 ? _free.Pop() : new RpcCall(this);
            }

            call.RenewSourceIfCancelled();
        }

        if (connection.IsCancellationRequested)
        {
            call.Source.Cancel();
        }

        return call;
    }

    /// <summary>Makes <paramref name="call"/> findable by <paramref name="rawId"/> until it ends: it went on asynchronously, or it waits for a slot.</summary>
    public void Register(RpcCall call, ReadOnlySpan<byte> rawId, CancellationToken connection)
    {
        lock (_lock)
        {
            if (_registration == default && connection.CanBeCanceled)
            {
                _registration = connection.UnsafeRegister(static state => ((RpcCallRegistry)state!).CancelAll(), this);
            }

            call.SetId(rawId);
            call.Index = _running.Count;
            _running.Add(call);
            if (_connectionCancelled || connection.IsCancellationRequested)
            {
                call.Source.Cancel();
            }
        }
    }

    /// <summary>The call finished; its source goes back to the pool when it can be reused.</summary>
    public void End(RpcCall call)
    {
        if (call.Index < 0)
        {
            // Never registered, so nothing but the connection could have cancelled it.
            if (call.Source.TryReset() && Interlocked.CompareExchange(ref _spare, call, null) is null)
            {
                return;
            }

            lock (_lock)
            {
                Recycle(call);
            }

            return;
        }

        lock (_lock)
        {
            int last = _running.Count - 1;
            RpcCall moved = _running[last];
            _running[call.Index] = moved;
            moved.Index = call.Index;
            _running.RemoveAt(last);
            call.Index = -1;
            if (call.CancelledByClient)
            {
                // Cancel found this call under the lock and cancels its source after releasing it,
                // maybe only now: a call given out again could be cancelled in its place (or its source
                // disposed under Cancel). So a cancelled call is not reused; the pool makes another.
                return;
            }

            Recycle(call);
        }
    }

    /// <summary>Cancels the registered call whose id equals <paramref name="rawId"/> by value; false when there is none.</summary>
    public bool Cancel(ReadOnlySpan<byte> rawId)
    {
        RpcCall? match = null;
        lock (_lock)
        {
            foreach (RpcCall call in _running)
            {
                if (!call.CancelledByClient && RpcIdComparer.Equals(call.Id, rawId))
                {
                    match = call;
                    match.CancelledByClient = true;
                    break;
                }
            }
        }

        // Outside the lock: the call's own callbacks run here.
        match?.Source.Cancel();
        return match is not null;
    }

    private void Recycle(RpcCall call)
    {
        if (call.Source.TryReset())
        {
            _free.Push(call);
        }
        else
        {
            call.Source.Dispose();
        }
    }

    private void CancelAll()
    {
        RpcCall[] running;
        lock (_lock)
        {
            _connectionCancelled = true;
            running = [.. _running];
        }

        foreach (RpcCall call in running)
        {
            try
            {
                call.Source.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}

/// <summary>One call that can be cancelled: its source, and its id once registered.</summary>
internal sealed class RpcCall(RpcCallRegistry owner)
{
    private byte[] _id = new byte[16];
    private int _idLength;

    public CancellationTokenSource Source { get; private set; } = new();

    public CancellationToken Token => Source.Token;

    /// <summary>True when <c>$/cancelRequest</c> cancelled it (then an end by its token is answered -32800).</summary>
    public volatile bool CancelledByClient;

    /// <summary>Its place among the registered calls; -1 while not registered.</summary>
    public int Index = -1;

    public RpcCallRegistry Owner { get; } = owner;

    public ReadOnlySpan<byte> Id => _id.AsSpan(0, _idLength);

    /// <summary>A pooled call whose source the connection's cancellation reached after it was pooled gets a fresh one.</summary>
    public void RenewSourceIfCancelled()
    {
        if (Source.IsCancellationRequested)
        {
            Source = new CancellationTokenSource();
        }
    }

    public void SetId(ReadOnlySpan<byte> rawId)
    {
        if (rawId.Length > _id.Length)
        {
            _id = new byte[Math.Max(rawId.Length, _id.Length * 2)];
        }

        rawId.CopyTo(_id);
        _idLength = rawId.Length;
    }
}

/// <summary>Compares two raw JSON ids by value: strings by their text (escapes decoded), numbers and null by their literal.</summary>
internal static class RpcIdComparer
{
    public static bool Equals(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.SequenceEqual(b))
        {
            return true;
        }

        bool aString = a.Length > 0 && a[0] == (byte)'"';
        bool bString = b.Length > 0 && b[0] == (byte)'"';
        if (!aString || !bString || (a.IndexOf((byte)'\\') < 0 && b.IndexOf((byte)'\\') < 0))
        {
            return false;
        }

        // Rare: an id written with escapes ("\u0031" is "1"); decoded once each.
        return Decode(a) == Decode(b);
    }

    private static string? Decode(ReadOnlySpan<byte> raw)
    {
        var reader = new Utf8JsonReader(raw);
        return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
    }
}
