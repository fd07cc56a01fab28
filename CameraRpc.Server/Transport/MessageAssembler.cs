using System.Buffers;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Transport;

/// <summary>
/// Collects one inbound message (a WebSocket message's frames, or an HTTP POST body) into a pooled
/// array that grows as needed, up to the message size limit and one byte more.
/// </summary>
/// <remarks>
/// <para>The caller drives the reads: <see cref="Begin"/>, then repeatedly
/// <see cref="TryGetSpace"/> → read into the space → <see cref="Advance"/> until its input says the
/// message is complete or <see cref="TryGetSpace"/> returns false. Holding limit + 1 bytes is how a
/// message over the limit is recognised without reading the rest of it (<see cref="IsOverLimit"/>):
/// the WebSocket answers it with 1009, HTTP with 413.</para>
/// <para>Then either <see cref="Detach"/> takes the array (the caller returns it to
/// <see cref="ArrayPool{T}.Shared"/>) or <see cref="Release"/> returns it. A mutable struct, held in a
/// field or a local, never copied: one per reader, not thread-safe.</para>
/// </remarks>
internal struct MessageAssembler
{
    private readonly int _maxMessageBytes;
    private byte[]? _buffer;
    private int _length;

    /// <param name="maxMessageBytes">The largest message accepted (<c>--max-message-bytes</c>, at most 1 GiB).</param>
    public MessageAssembler(int maxMessageBytes) => _maxMessageBytes = maxMessageBytes;

    /// <summary>Bytes collected so far.</summary>
    public readonly int Length => _length;

    /// <summary>True once more bytes than the limit have arrived: the message is refused.</summary>
    public readonly bool IsOverLimit => _length > _maxMessageBytes;

    /// <summary>The bytes collected so far.</summary>
    public readonly ReadOnlyMemory<byte> Message => _buffer.AsMemory(0, _length);

    /// <summary>Starts a message with a buffer of <paramref name="initialSize"/> bytes (at most limit + 1).</summary>
    public void Begin(int initialSize)
    {
        Release();
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(initialSize, ReadLimit));
    }

    /// <summary>
    /// The space the next read goes into, grown when full; false when the message is over the limit
    /// (nothing more is to be read for it).
    /// </summary>
    public bool TryGetSpace(out Memory<byte> space)
    {
        // The pool may hand out more than the limit allows: never read past limit + 1 bytes.
        int capacity = Math.Min(_buffer!.Length, ReadLimit);
        if (_length == capacity)
        {
            if (IsOverLimit)
            {
                space = default;
                return false;
            }

            _buffer = PooledArrays.Grow(_buffer, _length, (int)Math.Min((long)_buffer.Length * 2, ReadLimit));
            capacity = Math.Min(_buffer.Length, ReadLimit);
        }

        space = _buffer.AsMemory(_length, capacity - _length);
        return true;
    }

    /// <summary>Counts <paramref name="count"/> bytes read into the last space.</summary>
    public void Advance(int count) => _length += count;

    /// <summary>Hands the array over (the caller returns it to the pool) and starts empty.</summary>
    public byte[] Detach(out int length)
    {
        byte[] buffer = _buffer!;
        length = _length;
        _buffer = null;
        _length = 0;
        return buffer;
    }

    /// <summary>Returns the array, if any, to the pool.</summary>
    public void Release()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        _length = 0;
    }

    private readonly int ReadLimit => _maxMessageBytes + 1;
}
