namespace CameraRpc.Tests.Transport.Support;

/// <summary>
/// An in-memory stand-in for a connection's socket stream: reads are served from scripted chunks
/// (one chunk per read, as a socket returns what has arrived), every read's requested length and every
/// write are recorded, and writes can be made to fail like a peer that is gone.
/// </summary>
internal sealed class RecordingStream : Stream
{
    private readonly object _lock = new();
    private readonly Queue<byte[]> _chunks = new();
    private readonly List<byte[]> _writes = [];
    private readonly List<int> _readLengths = [];

    /// <summary>When set, every write throws <see cref="IOException"/> (a reset connection).</summary>
    public bool FailWrites { get; set; }

    public bool IsDisposed { get; private set; }

    /// <summary>The bytes of each write, in order.</summary>
    public IReadOnlyList<byte[]> Writes
    {
        get
        {
            lock (_lock)
            {
                return _writes.ToArray();
            }
        }
    }

    /// <summary>Everything written, concatenated.</summary>
    public byte[] Written => Writes.SelectMany(write => write).ToArray();

    /// <summary>The length asked for by each read, in order (0 for a zero-byte wait).</summary>
    public IReadOnlyList<int> ReadLengths
    {
        get
        {
            lock (_lock)
            {
                return _readLengths.ToArray();
            }
        }
    }

    /// <summary>Makes <paramref name="chunk"/> what the next read returns.</summary>
    public void Arrive(byte[] chunk)
    {
        lock (_lock)
        {
            _chunks.Enqueue(chunk);
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _readLengths.Add(buffer.Length);
            if (buffer.Length == 0 || !_chunks.TryPeek(out byte[]? chunk))
            {
                return new ValueTask<int>(0); // a zero-byte wait whose data is here, or the end of the stream
            }

            int count = Math.Min(chunk.Length, buffer.Length);
            chunk.AsSpan(0, count).CopyTo(buffer.Span);
            _chunks.Dequeue();
            if (count < chunk.Length)
            {
                // The rest stays for the next read.
                var rest = new Queue<byte[]>([chunk[count..], .. _chunks]);
                _chunks.Clear();
                foreach (byte[] item in rest)
                {
                    _chunks.Enqueue(item);
                }
            }

            return new ValueTask<int>(count);
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_lock)
        {
            _writes.Add(buffer.ToArray());
            if (FailWrites)
            {
                throw new IOException("Connection reset by peer (test)");
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    // Like a socket's stream: nothing to flush, done at once (the base class would go through the thread pool).
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        IsDisposed = true;
        base.Dispose(disposing);
    }
}
