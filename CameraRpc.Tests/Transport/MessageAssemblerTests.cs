using System.Buffers;
using System.Text;
using CameraRpc.Server.Transport;

namespace CameraRpc.Tests.Transport;

/// <summary>One inbound message collected into a growing pooled array, up to the limit and one byte more.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class MessageAssemblerTests
{
    [Test]
    public void a_message_read_in_several_pieces_is_assembled_in_order_across_growth()
    {
        var assembler = new MessageAssembler(maxMessageBytes: 1 << 20);
        assembler.Begin(initialSize: 16);
        string expected = string.Concat(Enumerable.Range(0, 200).Select(i => $"piece {i};"));

        Feed(ref assembler, Encoding.UTF8.GetBytes(expected), pieceSize: 7);

        Encoding.UTF8.GetString(assembler.Message.Span).Should().Be(expected);
        assembler.IsOverLimit.Should().BeFalse();
        assembler.Release();
    }

    [Test]
    public void a_message_of_exactly_the_limit_is_accepted()
    {
        var assembler = new MessageAssembler(maxMessageBytes: 100);
        assembler.Begin(initialSize: 8);

        Feed(ref assembler, new byte[100], pieceSize: 9);

        assembler.Length.Should().Be(100);
        assembler.IsOverLimit.Should().BeFalse("the limit itself is allowed");
        assembler.TryGetSpace(out Memory<byte> space).Should().BeTrue("there is room to see whether a byte more arrives");
        space.Length.Should().Be(1);
        assembler.Release();
    }

    [Test]
    public void one_byte_over_the_limit_refuses_the_message_and_nothing_more_is_read_for_it()
    {
        var assembler = new MessageAssembler(maxMessageBytes: 100);
        assembler.Begin(initialSize: 8);

        int fed = Feed(ref assembler, new byte[5000], pieceSize: 64);

        fed.Should().Be(101, "reading stops at limit + 1 bytes");
        assembler.IsOverLimit.Should().BeTrue();
        assembler.TryGetSpace(out _).Should().BeFalse();
        assembler.Release();
    }

    [Test]
    public void a_large_first_buffer_from_the_pool_is_never_read_past_limit_plus_one()
    {
        var assembler = new MessageAssembler(maxMessageBytes: 10);
        assembler.Begin(initialSize: 4096);

        assembler.TryGetSpace(out Memory<byte> space).Should().BeTrue();

        space.Length.Should().Be(11);
        assembler.Release();
    }

    [Test]
    public void detach_hands_the_array_over_and_the_assembler_starts_empty()
    {
        var assembler = new MessageAssembler(maxMessageBytes: 100);
        assembler.Begin(initialSize: 8);
        Feed(ref assembler, "hello"u8.ToArray(), pieceSize: 5);

        byte[] message = assembler.Detach(out int length);

        Encoding.UTF8.GetString(message, 0, length).Should().Be("hello");
        assembler.Length.Should().Be(0);
        assembler.Release(); // nothing to return: the array is the caller's
        ArrayPool<byte>.Shared.Return(message);
    }

    [Test]
    public async Task an_http_body_is_read_until_the_end_of_its_stream()
    {
        var assembler = new MessageAssembler(maxMessageBytes: 1000);
        using var body = new MemoryStream(Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"ping","id":1}"""));
        assembler.Begin(initialSize: 4);

        // The HTTP endpoint's loop: read into the space until the stream ends or the limit is passed.
        while (assembler.TryGetSpace(out Memory<byte> space))
        {
            int read = await body.ReadAsync(space);
            if (read == 0)
            {
                break;
            }

            assembler.Advance(read);
        }

        Encoding.UTF8.GetString(assembler.Message.Span).Should().Be("""{"jsonrpc":"2.0","method":"ping","id":1}""");
        assembler.Release();
    }

    /// <summary>Feeds <paramref name="input"/> the way a reader does, in pieces; returns how many bytes were taken.</summary>
    private static int Feed(ref MessageAssembler assembler, byte[] input, int pieceSize)
    {
        int offset = 0;
        while (offset < input.Length && assembler.TryGetSpace(out Memory<byte> space))
        {
            int count = Math.Min(Math.Min(pieceSize, space.Length), input.Length - offset);
            input.AsSpan(offset, count).CopyTo(space.Span);
            assembler.Advance(count);
            offset += count;
        }

        return offset;
    }
}
