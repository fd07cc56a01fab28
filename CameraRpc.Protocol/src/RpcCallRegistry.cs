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
/// synchronously (a message dispatched beside a held one is the exception, which is why the calls of a
/// held message are registered as soon as it is held). Such a call takes its thread's spare source
/// (<see cref="Rent"/>) and gives it back (<see cref="End"/>) on that thread, with no lock and no atomic
/// instruction: on the 1,000 x depth 1 ping profile the registry's lock and list were about 2% of the
/// server core, and a locked exchange in their place still about 0.8%.
/// </para>
/// </remarks>
internal sealed class RpcCallRegistry
{
    /// <summary>The source of this thread's next synchronous call: rented and given back on the same thread.</summary>
#pragma warning disable IDE1006 // t_ marks a [ThreadStatic] field, as in dotnet/runtime; the naming rules cannot see the attribute
    [ThreadStatic]
    private static RpcCall? t_spare;
#pragma warning restore IDE1006

    private readonly Lock _lock = new();
    private readonly List<RpcCall> _running = [];
    private readonly Stack<RpcCall> _free = new();
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
        RpcCall? call = t_spare;
        if (call is not null)
        {
            t_spare = null;
        }
        else
        {
            lock (_lock)
            {
                call = _free.Count > 0 ? _free.Pop() : new RpcCall();
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
            call.Owner = this;
            _running.Add(call);
            if (_connectionCancelled || connection.IsCancellationRequested)
            {
                call.Source.Cancel();
            }
        }
    }

    /// <summary>The call finished; its source goes back to the pool when it can be reused.</summary>
    public static void End(RpcCall call)
    {
        if (call.Owner is { } owner)
        {
            owner.EndRegistered(call);
        }
        else if (!call.Source.TryReset())
        {
            call.Source.Dispose(); // the connection was cancelled: not reusable
        }
        else if (t_spare is null)
        {
            t_spare = call; // the common case: rented on this thread a moment ago
        }

        // Otherwise (a call dispatched inside a call on this thread) the source is left to the GC.
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

    private void EndRegistered(RpcCall call)
    {
        lock (_lock)
        {
            int last = _running.Count - 1;
            RpcCall moved = _running[last];
            _running[call.Index] = moved;
            moved.Index = call.Index;
            _running.RemoveAt(last);
            call.Owner = null;
            if (call.CancelledByClient || _connectionCancelled)
            {
                // Cancel (or CancelAll) found this call under the lock and cancels its source after
                // releasing it, maybe only now: a call given out again (to any connection, through a
                // thread's spare) could be cancelled in its place, or its source disposed under Cancel.
                // So a cancelled call is not reused; the pool makes another.
                return;
            }

            if (call.Source.TryReset())
            {
                _free.Push(call);
            }
            else
            {
                call.Source.Dispose();
            }
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

/// <summary>One call that can be cancelled: its source, and its id while registered.</summary>
internal sealed class RpcCall
{
    private byte[] _id = new byte[16];
    private int _idLength;

    public CancellationTokenSource Source { get; private set; } = new();

    public CancellationToken Token => Source.Token;

    /// <summary>True when <c>$/cancelRequest</c> cancelled it (then an end by its token is answered -32800).</summary>
    public volatile bool CancelledByClient;

    /// <summary>Its place among its owner's registered calls.</summary>
    public int Index;

    /// <summary>The registry it is registered in; null while not registered.</summary>
    public RpcCallRegistry? Owner;

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
