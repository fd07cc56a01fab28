using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>The opening handshake as a client sees it on the wire (RFC 6455 section 4), against the executable.</summary>
[NonParallelizable]
public sealed class WebSocketHandshakeTests
{
    [Test, CancelAfter(30_000)]
    public async Task the_upgrade_is_answered_101_with_the_accept_value_of_the_key_and_then_speaks_json_rpc(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using RawWebSocket socket = await RawWebSocket.ConnectTcpAsync(server.Port, cancellationToken);

        int status = await socket.HandshakeRawAsync(RawWebSocket.UpgradeRequest(server.Port), cancellationToken);

        status.Should().Be(101);
        socket.HandshakeResponse.Should().Contain("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", "the accept value RFC 6455 section 1.3 gives for this key");
        socket.HandshakeResponse.Should().NotContain("Sec-WebSocket-Protocol", "no subprotocol was asked for or agreed");
        await socket.SendTextAsync(RpcMessages.Ping(1), cancellationToken);
        (await socket.ReadMessageAsync(cancellationToken))?.Text.Should().Be(RpcMessages.Pong(1));
    }

    [TestCase("8")]
    [TestCase("14")]
    [CancelAfter(30_000)]
    public async Task another_protocol_version_is_answered_426_naming_version_13(string version, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using RawWebSocket socket = await RawWebSocket.ConnectTcpAsync(server.Port, cancellationToken);

        int status = await socket.HandshakeRawAsync(RawWebSocket.UpgradeRequest(server.Port, version: version), cancellationToken);

        status.Should().Be(426, "RFC 6455 section 4.4: a version the server does not speak");
        socket.HandshakeResponse.Should().Contain("\r\nSec-WebSocket-Version: 13\r\n", "the answer says which version to retry with");
    }

    [TestCase("AAAAAAAAAAAAAAAAAAAAAA==", 101, TestName = "a_key_of_16_bytes_is_accepted")]
    [TestCase("AAAAAAAAAAAAAAAAAAAA", 400, TestName = "a_key_of_15_bytes_is_refused")]
    [TestCase("AAAAAAAAAAAAAAAAAAAAAAAA", 400, TestName = "a_key_of_18_bytes_is_refused")]
    [TestCase("not base64 at all!!!!!==", 400, TestName = "a_key_that_is_not_base64_is_refused")]
    [CancelAfter(30_000)]
    public async Task the_key_must_be_16_bytes_in_base64(string key, int expected, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using RawWebSocket socket = await RawWebSocket.ConnectTcpAsync(server.Port, cancellationToken);

        int status = await socket.HandshakeRawAsync(RawWebSocket.UpgradeRequest(server.Port, key), cancellationToken);

        status.Should().Be(expected, "RFC 6455 section 4.1: the key is 16 random bytes, base64-encoded");
    }
}
