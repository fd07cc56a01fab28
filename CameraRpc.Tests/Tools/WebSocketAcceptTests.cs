using System.Text;
using CameraRpc.Server.Tools.WebSockets;
using CameraRpc.Server.Transport;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Tools;

/// <summary>The one accept computation (RFC 6455 section 4.2.2), shared by the server's 101 and the tools' check of it.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class WebSocketAcceptTests
{
    private const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ==";
    private const string SampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    [Test]
    public void the_sample_key_of_rfc_6455_section_1_3_gives_its_accept_value() =>
        WebSocketAccept.Compute(SampleKey).Should().Be(SampleAccept, "RFC 6455 section 1.3 gives this pair");

    [Test]
    public void the_server_and_the_tools_compute_the_same_value()
    {
        string key = Convert.ToBase64String(Encoding.ASCII.GetBytes("0123456789abcdef"));

        WebSocketHandshake.ComputeAccept(key).Should().Be(WebSocketAccept.Compute(key), "the server's 101 uses the shared helper");
    }

    [Test]
    public void the_bench_client_accepts_the_right_value_and_refuses_any_other()
    {
        string head(string accept) => $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}";

        WebSocketFraming.CheckUpgradeResponse(Encoding.ASCII.GetBytes(head(SampleAccept)), SampleKey).Should().BeNull();
        WebSocketFraming.CheckUpgradeResponse(Encoding.ASCII.GetBytes(head("AAAAAAAAAAAAAAAAAAAAAAAAAAA=")), SampleKey)
            .Should().Be("the server's Sec-WebSocket-Accept is wrong");
    }

    [Test]
    public void a_key_longer_than_any_valid_one_is_refused_rather_than_overrunning_the_buffer() =>
        FluentActions.Invoking(() => WebSocketAccept.Compute(new string('A', 65))).Should().Throw<ArgumentException>();
}
