using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// One event's value, serialized once and shared by every subscription it was offered to: pooled
/// bytes with a reference count. The last release returns it to the pool.
/// </summary>
/// <remarks>Thread-safe reference counting; the bytes are immutable between <see cref="Rent"/> and the last release.</remarks>
internal sealed class RpcEventPayload
{
    // Payloads wait here between events; a fed topic publishing to many subscribers keeps a few in flight.
    private static readonly RpcEventPayload?[] s_pool = new RpcEventPayload?[64];

    private readonly RpcResponseBuffer _bytes = new();
    private int _references;

    private RpcEventPayload()
    {
    }

    /// <summary>The value's JSON.</summary>
    public ReadOnlySpan<byte> Json => _bytes.WrittenSpan;

    /// <summary>A payload with one reference (the caller's) and a writer over its empty bytes.</summary>
    public static RpcEventPayload Rent(out Utf8JsonWriter writer)
    {
        RpcEventPayload payload = TakeFromPool() ?? new RpcEventPayload();
        payload._references = 1;
        writer = payload._bytes.StartJsonValue();
        return payload;
    }

    /// <summary>One more holder.</summary>
    public void AddReference() => Interlocked.Increment(ref _references);

    /// <summary>One holder fewer; the last one puts it back in the pool.</summary>
    public void Release()
    {
        int left = Interlocked.Decrement(ref _references);
        if (left == 0)
        {
            _bytes.Clear();
            ReturnToPool(this);
        }
    }

    private static RpcEventPayload? TakeFromPool()
    {
        RpcEventPayload?[] pool = s_pool;
        for (int i = 0; i < pool.Length; i++)
        {
            RpcEventPayload? candidate = Volatile.Read(ref pool[i]);
            if (candidate is not null && Interlocked.CompareExchange(ref pool[i], null, candidate) == candidate)
            {
                return candidate;
            }
        }

        return null;
    }

    private static void ReturnToPool(RpcEventPayload payload)
    {
        RpcEventPayload?[] pool = s_pool;
        for (int i = 0; i < pool.Length; i++)
        {
            if (Volatile.Read(ref pool[i]) is null && Interlocked.CompareExchange(ref pool[i], payload, null) is null)
            {
                return;
            }
        }

        // Pool full: the GC takes it.
    }
}
