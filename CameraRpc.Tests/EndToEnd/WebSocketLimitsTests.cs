using System.Net.WebSockets;
using System.Text;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary><c>--max-message-bytes</c> (close 1009) and <c>--max-connections</c> (503 on the upgrade), against the executable.</summary>
[NonParallelizable]
public sealed class WebSocketLimitsTests
{
    private const int Limit = 300;

    [Test, CancelAfter(30_000)]
    public async Task a_message_exactly_at_max_message_bytes_is_answered(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--max-message-bytes", Limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        string atLimit = RpcMessages.EchoOfLength(Limit);

        (await client.CallAsync(atLimit, cancellationToken)).Should().Be(RpcMessages.EchoAnswer(atLimit), "a message of exactly --max-message-bytes is within the limit");
    }

    public enum Sending
    {
        Whole,
        Fragmented,
        FragmentedNeverFinished,
    }

    [TestCase(Sending.Whole, TestName = "a_message_over_max_message_bytes_closes_with_1009_while_another_connection_keeps_answering")]
    [TestCase(Sending.Fragmented, TestName = "a_fragmented_message_over_max_message_bytes_closes_with_1009_while_another_connection_keeps_answering")]
    [TestCase(Sending.FragmentedNeverFinished, TestName = "fragments_past_max_message_bytes_close_with_1009_without_waiting_for_the_last_one")]
    [CancelAfter(30_000)]
    public async Task a_message_over_the_limit(Sending sending, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--max-message-bytes", Limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using RpcTestClient bystander = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient offender = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        byte[] overLimit = Encoding.UTF8.GetBytes(RpcMessages.EchoOfLength(Limit + 1));

        if (sending != Sending.Whole)
        {
            // Never finished: the frame that carries the byte past the limit is not the last one, so the
            // server has to count, not wait for the end (a limit enforced only at the end holds any amount).
            for (int offset = 0; offset < overLimit.Length; offset += 50)
            {
                int count = Math.Min(50, overLimit.Length - offset);
                bool last = offset + count == overLimit.Length && sending == Sending.Fragmented;
                await offender.Socket.SendAsync(overLimit.AsMemory(offset, count), WebSocketMessageType.Text, last, cancellationToken);
            }
        }
        else
        {
            await offender.Socket.SendAsync(overLimit, WebSocketMessageType.Text, true, cancellationToken);
        }

        (await offender.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.MessageTooBig, "a message one byte over --max-message-bytes closes the connection with 1009");
        (await bystander.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "other connections are not affected");
    }

    [Test, CancelAfter(30_000)]
    public async Task the_connection_over_max_connections_gets_503_and_the_existing_ones_still_answer(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--max-connections", "2");
        await using RpcTestClient first = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient second = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        int third = await HttpExchange.UpgradeStatusAsync(server.WebSocketUri, cancellationToken);

        third.Should().Be(503, "the third upgrade is over --max-connections 2");
        (await first.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "the refusal leaves existing connections untouched");
        (await second.CallAsync(RpcMessages.Ping(2), cancellationToken)).Should().Be(RpcMessages.Pong(2), "the refusal leaves existing connections untouched");
        (await HttpExchange.HealthyConnectionsAsync(server.HttpUri("/healthz"), cancellationToken)).Should().Be(2, "the refused upgrade holds no slot");
    }
}
