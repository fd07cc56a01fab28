using System.Security.Cryptography;
using System.Text;
using CameraRpc.Server.Transport;
using FluentAssertions;
using NUnit.Framework;
using CameraRpc.Server.Tools.WebSockets;

namespace CameraRpc.Tests.Server;

/// <summary>The handshake's own SHA-1 and accept value (the server does not load OpenSSL for them).</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class WebSocketHandshakeTests
{
    [Test]
    public void sha1_gives_the_platforms_hash_for_every_length_across_two_blocks_and_for_long_inputs()
    {
        var random = new Random(6455);
        byte[] expected = new byte[20];
        byte[] actual = new byte[20];
        var lengths = Enumerable.Range(0, 200).Concat([1_000, 4_096, 65_537]);
        foreach (int length in lengths)
        {
            byte[] input = new byte[length];
            random.NextBytes(input);
            SHA1.HashData(input, expected);
            Sha1.HashData(input, actual);
            actual.Should().Equal(expected, $"SHA-1 of {length} bytes (padding fits one or two blocks depending on the length)");
        }
    }

    [Test]
    public void the_accept_value_is_the_one_rfc_6455_gives_for_its_sample_key()
    {
        WebSocketHandshake.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ==").Should().Be("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "RFC 6455 section 1.3");
    }

    [Test]
    public void the_switching_protocols_answer_is_a_complete_http_head()
    {
        string head = Encoding.ASCII.GetString(WebSocketHandshake.SwitchingProtocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));

        head.Should().StartWith("HTTP/1.1 101 Switching Protocols\r\n");
        head.Should().Contain("\r\nUpgrade: websocket\r\n").And.Contain("\r\nConnection: Upgrade\r\n");
        head.Should().Contain("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
        head.Should().EndWith("\r\n\r\n").And.NotContain("Sec-WebSocket-Protocol", "no subprotocol is agreed");
    }
}
