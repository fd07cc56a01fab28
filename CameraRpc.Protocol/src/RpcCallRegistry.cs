using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// The calls of one connection that a <c>$/cancelRequest</c> may cancel: each running call with an id
/// gets a cancellation source of its own (pooled, so a warm call allocates nothing), which the
/// connection's own token (disconnect, shutdown) cancels too.
/// </summary>
/// <remarks>Thread-safe. Made on a WebSocket connection's first call; HTTP requests have none.</remarks>
internal sealed class RpcCallRegistry
{
    private readonly Lock _lock = new();
    private readonly List<RpcCall> _running = [];
    private readonly Stack<RpcCall> _free = new();
    private CancellationTokenRegistration _registration;
    private bool _connectionCancelled;

    /// <summary>Registers a call with <paramref name="rawId"/> and gives it a token cancelled by either the client or <paramref name="connection"/>.</summary>
    public RpcCall Begin(ReadOnlySpan<byte> rawId, CancellationToken connection)
    {
        RpcCall call;
        lock (_lock)
        {
            if (_registration == default && connection.CanBeCanceled)
            {
                _registration = connection.UnsafeRegister(static state => ((RpcCallRegistry)state!).CancelAll(), this);
            }

            call = _free.Count > 0 ? _free.Pop() : new RpcCall();
            call.SetId(rawId);
            call.Index = _running.Count;
            _running.Add(call);
            call.Owner = this;
            if (_connectionCancelled || connection.IsCancellationRequested)
            {
                call.Source.Cancel();
            }
        }

        return call;
    }

    /// <summary>The call finished; its source goes back to the pool when it can be reused.</summary>
    public void End(RpcCall call)
    {
        lock (_lock)
        {
            int last = _running.Count - 1;
            RpcCall moved = _running[last];
            _running[call.Index] = moved;
            moved.Index = call.Index;
            _running.RemoveAt(last);
            if (call.CancelledByClient)
            {
                // Cancel found this call under the lock and cancels its source after releasing it,
                // maybe only now: a call given out again could be cancelled in its place (or its source
                // disposed under Cancel). So a cancelled call is not reused; the pool makes another.
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

    /// <summary>Cancels the running call whose id equals <paramref name="rawId"/> by value; false when there is none.</summary>
    public bool Cancel(ReadOnlySpan<byte> rawId)
    {
        RpcCall? match = null;
        lock (_lock)
        {
            foreach (RpcCall call in _running)
            {
                if (RpcIdComparer.Equals(call.Id, rawId))
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

/// <summary>One running call that can be cancelled by id.</summary>
internal sealed class RpcCall
{
    private byte[] _id = new byte[16];
    private int _idLength;

    public CancellationTokenSource Source { get; private set; } = new();

    public CancellationToken Token => Source.Token;

    /// <summary>True when <c>$/cancelRequest</c> cancelled it (then an end by its token is answered -32800).</summary>
    public volatile bool CancelledByClient;

    public int Index;

    public RpcCallRegistry? Owner;

    public ReadOnlySpan<byte> Id => _id.AsSpan(0, _idLength);

    public void SetId(ReadOnlySpan<byte> rawId)
    {
        if (Source.IsCancellationRequested)
        {
            Source = new CancellationTokenSource();
        }

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
