using System.Text;
using CameraRpc.Server.Tools.Client;
using FluentAssertions;
using NUnit.Framework;
using CameraRpc.Server.Tools.WebSockets;

namespace CameraRpc.Tests.Tools;

/// <summary>The load generator's own RFC 6455 framing: masked client frames and server frames read in place.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class WebSocketFramingTests
{
    [TestCase(5)]
    [TestCase(125)]
    [TestCase(126)]
    [TestCase(70_000)]
    public void a_client_frame_is_masked_and_unmasks_to_the_payload(int length)
    {
        byte[] payload = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        byte[] frame = new byte[length + WebSocketFraming.MaxClientHeader];

        int written = WebSocketFraming.WriteClientFrame(frame, WebSocketFraming.Text, payload, 0xA1B2C3D4);

        frame[0].Should().Be(0x81, "FIN and text");
        (frame[1] & 0x80).Should().Be(0x80, "client frames are masked");
        int header = length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;
        written.Should().Be(header + 4 + length);
        byte[] mask = frame[header..(header + 4)];
        byte[] unmasked = frame[(header + 4)..written].Select((b, i) => (byte)(b ^ mask[i & 3])).ToArray();
        unmasked.Should().Equal(payload);
    }

    [Test]
    public void server_frames_are_read_in_place_and_a_cut_frame_asks_for_more()
    {
        byte[] first = [0x81, 4, .. "pong"u8];
        byte[] second = [0x82, 126, 0x00, 200, .. new byte[200]];
        byte[] data = [.. first, .. second];

        WebSocketFraming.TryReadFrame(data, out byte opcode, out bool fin, out int offset, out int length).Should().BeTrue();
        opcode.Should().Be(WebSocketFraming.Text);
        fin.Should().BeTrue();
        Encoding.ASCII.GetString(data, offset, length).Should().Be("pong");

        WebSocketFraming.TryReadFrame(data.AsSpan(offset + length), out opcode, out _, out offset, out length).Should().BeTrue();
        opcode.Should().Be(WebSocketFraming.Binary);
        (offset, length).Should().Be((4, 200));

        WebSocketFraming.TryReadFrame(data.AsSpan(first.Length, 100), out _, out _, out _, out _).Should().BeFalse("the frame is not complete");
    }

    [Test]
    public void the_upgrade_request_carries_the_bearer_token_when_there_is_one_and_no_authorization_otherwise()
    {
        var url = new Uri("ws://127.0.0.1:8002/ws");

        string[] withToken = HeaderLines(WebSocketFraming.BuildUpgradeRequest(url, "s3cret-t0ken", out string key));
        string[] withoutToken = HeaderLines(WebSocketFraming.BuildUpgradeRequest(url, null, out _));

        withToken[0].Should().Be("GET /ws HTTP/1.1");
        withToken.Should().ContainSingle(line => line.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase))
            .Which.Should().Be("Authorization: Bearer s3cret-t0ken");
        withToken.Should().Contain(["Host: 127.0.0.1:8002", "Upgrade: websocket", "Connection: Upgrade", $"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]);
        withoutToken.Should().NotContain(line => line.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase));
        withoutToken.Should().HaveCount(withToken.Length - 1, "the token adds its header line and nothing else");
    }

    [TestCase("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer", 401)]
    [TestCase("HTTP/1.1 101 Switching Protocols", 101)]
    [TestCase("HTTP/1.0 503 Service Unavailable", 503)]
    [TestCase("HTTP/1.1", 0)]
    [TestCase("garbage", 0)]
    public void the_status_code_is_read_from_the_answer_head(string head, int code) =>
        WebSocketFraming.StatusCode(Encoding.ASCII.GetBytes(head)).Should().Be(code);

    [Test]
    public void the_upgrade_answer_is_checked_against_the_key()
    {
        // The example of RFC 6455 section 1.3.
        const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
        byte[] good = Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        byte[] refused = Encoding.ASCII.GetBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0");

        WebSocketFraming.CheckUpgradeResponse(good, Key).Should().BeNull();
        WebSocketFraming.CheckUpgradeResponse(refused, Key).Should().Contain("503");
        WebSocketFraming.CheckUpgradeResponse(good, "AAAAAAAAAAAAAAAAAAAAAA==").Should().Contain("Sec-WebSocket-Accept");
    }

    /// <summary>The request's head as lines, checked to be one complete head (it ends at the blank line, nothing after it).</summary>
    private static string[] HeaderLines(byte[] request)
    {
        string text = Encoding.ASCII.GetString(request);
        text.Should().EndWith("\r\n\r\n");
        text.IndexOf("\r\n\r\n", StringComparison.Ordinal).Should().Be(text.Length - 4, "no header may end the head early");
        return text[..^4].Split("\r\n");
    }
}
