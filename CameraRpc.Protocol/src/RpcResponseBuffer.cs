using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// The growable output buffer an answer is written into: an <see cref="IBufferWriter{T}"/> over
/// an <see cref="ArrayPool{T}"/> array, with a <see cref="Utf8JsonWriter"/> of its own so that a
/// warm dispatch allocates nothing. Rent one per message with <see cref="Rent"/> and give it back
/// with <see cref="Return"/> once its bytes are sent.
/// </summary>
/// <remarks>
/// Not thread-safe: one message's answer at a time. Unlike a plain buffer writer it can be cut back
/// to an earlier length (<see cref="Truncate"/>), which is how a handler that fails half-way through
/// writing its result is turned into a clean error answer.
/// </remarks>
public sealed partial class RpcResponseBuffer : IBufferWriter<byte>
{
    private const int InitialSize = 512;

    // Buffers larger than this are not kept in the pool: one 1 MiB echo must not pin 1 MiB forever.
    private const int MaxRetainedSize = 64 * 1024;

    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        // Results are sent as they are: no escaping of '+', '<', non-ASCII letters and the like
        // beyond what JSON itself requires. The transport is not HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    // Buffers wait in the pool of the thread that returned them, then in a small shared pool. A
    // pipelining client has a batch of answers out at once (all rented and returned on one thread,
    // the one reading its messages and then sending their answers together), so each thread keeps up
    // to one batch's worth: the default --max-concurrency.
    private const int ThreadPoolSize = 64;

#pragma warning disable IDE1006 // t_ marks a [ThreadStatic] field, as in dotnet/runtime; the naming rules cannot see the attribute
    [ThreadStatic]
    private static RpcResponseBuffer?[]? t_pool;

    [ThreadStatic]
    private static int t_count;
#pragma warning restore IDE1006

    private static readonly RpcResponseBuffer?[] s_pool = new RpcResponseBuffer?[Environment.ProcessorCount * 8];

    private byte[] _buffer;
    private int _written;
    private Utf8JsonWriter? _json;

    /// <summary>Creates an empty buffer; prefer <see cref="Rent"/>.</summary>
    public RpcResponseBuffer() => _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    /// <summary>The number of bytes written so far.</summary>
    public int WrittenCount => _written;

    /// <summary>Takes a buffer from the pool, or makes one.</summary>
    public static RpcResponseBuffer Rent()
    {
        if (t_count > 0)
        {
            RpcResponseBuffer?[] local = t_pool!;
            int index = --t_count;
            RpcResponseBuffer cached = local[index]!;
            local[index] = null;
            return cached;
        }

        RpcResponseBuffer?[] pool = s_pool;
        for (int i = 0; i < pool.Length; i++)
        {
            RpcResponseBuffer? candidate = pool[i];
            if (candidate is not null && Interlocked.CompareExchange(ref pool[i], null, candidate) == candidate)
            {
                return candidate;
            }
        }

        return new RpcResponseBuffer();
    }

    /// <summary>Clears the buffer and puts it back in the pool; it must not be used afterwards.</summary>
    public static void Return(RpcResponseBuffer buffer)
    {
        buffer.TakeStartingSubscriptions().Start(); // an answer dropped unsent still lets its subscriptions run
        buffer.Clear();
        if (buffer._buffer.Length > MaxRetainedSize)
        {
            ArrayPool<byte>.Shared.Return(buffer._buffer);
            buffer._buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
        }

        RpcResponseBuffer?[] local = t_pool ??= new RpcResponseBuffer?[ThreadPoolSize];
        if (t_count < local.Length)
        {
            local[t_count++] = buffer;
            return;
        }

        RpcResponseBuffer?[] pool = s_pool;
        for (int i = 0; i < pool.Length; i++)
        {
            if (pool[i] is null && Interlocked.CompareExchange(ref pool[i], buffer, null) is null)
            {
                return;
            }
        }

        // Pool full: let the GC have it, but hand the array back to the shared pool first.
        ArrayPool<byte>.Shared.Return(buffer._buffer);
        buffer._buffer = [];
    }

    /// <summary>Forgets everything written; keeps the array.</summary>
    public void Clear() => _written = 0;

    /// <summary>Cuts the written bytes back to <paramref name="length"/>.</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _written);
        _written = length;
    }

    /// <summary>Appends bytes as they are.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _written += bytes.Length;
    }

    /// <summary>Appends one byte.</summary>
    public void Write(byte value)
    {
        GetSpan(1)[0] = value;
        _written++;
    }

    /// <inheritdoc />
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written > _buffer.Length - count)
        {
            ThrowAdvancedTooFar();
        }

        _written += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureCapacity(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureCapacity(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>
    /// A <see cref="Utf8JsonWriter"/> over this buffer, reset to write one root value at the current
    /// end. Flush it before touching the buffer directly again.
    /// </summary>
    internal Utf8JsonWriter StartJsonValue()
    {
        if (_json is null)
        {
            _json = new Utf8JsonWriter(this, WriterOptions);
        }
        else
        {
            _json.Reset(this);
        }

        return _json;
    }

    private void EnsureCapacity(int sizeHint)
    {
        if (sizeHint < 1)
        {
            sizeHint = 1;
        }

        if (_buffer.Length - _written >= sizeHint)
        {
            return;
        }

        int needed = checked(_written + sizeHint);
        int newSize = Math.Max(needed, Math.Max(_buffer.Length * 2, InitialSize));
        _buffer = PooledArrays.Grow(_buffer, _written, newSize);
    }

    private static void ThrowAdvancedTooFar() =>
        throw new InvalidOperationException("Cannot advance past the end of the buffer.");
}
