using System.Buffers.Binary;
using System.Text;

namespace CameraRpc.Tests.Transport.Support;

/// <summary>One WebSocket frame as a server wrote it (unmasked): opcode, RSV1 (compressed) bit, payload.</summary>
internal sealed record ServerFrame(int Opcode, bool Compressed, byte[] Payload)
{
    public const int Text = 0x1;
    public const int Close = 0x8;

    public string Text8 => Encoding.UTF8.GetString(Payload);

    /// <summary>Splits bytes a server wrote into its frames; fails on a frame cut short.</summary>
    public static List<ServerFrame> Parse(ReadOnlySpan<byte> bytes)
    {
        var frames = new List<ServerFrame>();
        while (!bytes.IsEmpty)
        {
            int opcode = bytes[0] & 0x0F;
            bool compressed = (bytes[0] & 0x40) != 0;
            long length = bytes[1] & 0x7F;
            int header = 2;
            if (length == 126)
            {
                length = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
                header = 4;
            }
            else if (length == 127)
            {
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes[2..]);
                header = 10;
            }

            (bytes.Length - header).Should().BeGreaterThanOrEqualTo((int)length, "every frame is written whole");
            frames.Add(new ServerFrame(opcode, compressed, bytes.Slice(header, (int)length).ToArray()));
            bytes = bytes[(header + (int)length)..];
        }

        return frames;
    }
}
