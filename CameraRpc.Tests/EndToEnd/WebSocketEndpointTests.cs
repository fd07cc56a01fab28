using System.Net.WebSockets;
using System.Text;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>JSON-RPC over WebSocket (CONTRACT section 3): frame types, fragmentation and invalid UTF-8, against the executable.</summary>
[NonParallelizable]
public sealed class WebSocketEndpointTests
{
    [TestCase(WebSocketMessageType.Text, TestName = "a_text_message_is_answered_in_a_text_message")]
    [TestCase(WebSocketMessageType.Binary, TestName = "a_binary_message_is_answered_in_a_binary_message")]
    [CancelAfter(30_000)]
    public async Task the_answer_goes_back_in_the_frame_type_of_the_call(WebSocketMessageType type, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        await client.SendAsync(RpcMessages.Ping(1), cancellationToken, type);
        (string Text, WebSocketMessageType Type)? answer = await client.ReceiveAsync(cancellationToken);

        answer.Should().NotBeNull("the server answers a call");
        answer!.Value.Text.Should().Be(RpcMessages.Pong(1), "ping answers pong, whatever the frame type");
        answer.Value.Type.Should().Be(type, "the answer goes back in the same frame type as the call");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_message_fragmented_over_many_frames_is_assembled(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        string message = RpcMessages.EchoOfLength(10_000);
        byte[] bytes = Encoding.UTF8.GetBytes(message);

        // 7 bytes per frame: frames end inside property names, strings and numbers alike.
        const int FrameSize = 7;
        for (int offset = 0; offset < bytes.Length; offset += FrameSize)
        {
            int count = Math.Min(FrameSize, bytes.Length - offset);
            await client.Socket.SendAsync(bytes.AsMemory(offset, count), WebSocketMessageType.Text, offset + count == bytes.Length, cancellationToken);
        }

        (string Text, WebSocketMessageType Type)? answer = await client.ReceiveAsync(cancellationToken);
        answer?.Text.Should().Be(RpcMessages.EchoAnswer(message), "the frames of one message are one call");
        (await client.CallAsync(RpcMessages.Ping(2), cancellationToken)).Should().Be(RpcMessages.Pong(2), "the connection goes on after the assembled message");
    }

    [Test, CancelAfter(30_000)]
    public async Task invalid_utf8_in_a_text_message_closes_with_1007_while_another_connection_keeps_working(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using RpcTestClient bystander = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient offender = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        // ClientWebSocket does not validate what it sends: a text frame with a lone continuation byte and an overlong encoding.
        byte[] invalid = InvalidUtf8Call();
        await offender.Socket.SendAsync(invalid, WebSocketMessageType.Text, true, cancellationToken);

        (await offender.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.InvalidPayloadData, "invalid UTF-8 in a text message closes the connection with 1007");
        (await bystander.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "another connection is not affected");
    }

    [Test, CancelAfter(30_000)]
    public async Task the_same_bytes_in_a_binary_message_are_a_parse_error_not_a_close(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        byte[] invalid = InvalidUtf8Call();
        await client.Socket.SendAsync(invalid, WebSocketMessageType.Binary, true, cancellationToken);
        (string Text, WebSocketMessageType Type)? answer = await client.ReceiveAsync(cancellationToken);

        answer.Should().NotBeNull("WebSocket itself does not check binary messages; the JSON parser does");
        answer!.Value.Text.Should().Be("""{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}""", "invalid UTF-8 is not JSON");
        (await client.CallAsync(RpcMessages.Ping(2), cancellationToken)).Should().Be(RpcMessages.Pong(2), "a parse error leaves the connection open");
    }

    /// <summary>An echo call whose string holds a lone continuation byte and an overlong encoding: not UTF-8.</summary>
    private static byte[] InvalidUtf8Call() =>
        [.. Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\""), 0x80, 0xC0, 0xAF, .. Encoding.UTF8.GetBytes("\"],\"id\":1}")];
}
