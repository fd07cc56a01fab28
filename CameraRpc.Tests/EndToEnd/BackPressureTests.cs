using System.Globalization;
using System.Net.WebSockets;
using CameraRpc.Tests.EndToEnd.Methods;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// <c>--max-concurrency</c>: at the limit a connection stops reading (later messages wait, none is lost);
/// under it, a slow call does not hold up the others. In-process server with the <c>test.wait</c> method.
/// </summary>
[NonParallelizable]
public sealed class BackPressureTests
{
    [Test, CancelAfter(30_000)]
    public async Task at_max_concurrency_1_a_slow_call_holds_later_messages_and_none_is_lost(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxConcurrency = 1 });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string key, RpcCallGate gate) = RpcCallGate.Create();

        await client.SendAsync(WaitCall(key, 1), cancellationToken);
        await gate.Started.WaitAsync(cancellationToken);
        const int Pings = 50;
        for (int id = 2; id < 2 + Pings; id++)
        {
            await client.SendAsync(RpcMessages.Ping(id), cancellationToken);
        }

        // Were any ping read while test.wait runs, its answer would come first: ping completes at once.
        gate.Release();
        (await NextAsync(client, cancellationToken)).Should().Be(RpcMessages.Result("\"released\"", 1), "with one call at a time, no ping ran before the slow call ended");
        for (int id = 2; id < 2 + Pings; id++)
        {
            (await NextAsync(client, cancellationToken)).Should().Be(RpcMessages.Pong(id), "every message waiting behind the slow call is answered, in order");
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task under_max_concurrency_a_slow_call_does_not_hold_a_ping(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxConcurrency = 4 });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string key, RpcCallGate gate) = RpcCallGate.Create();

        await client.SendAsync(WaitCall(key, 1), cancellationToken);
        await gate.Started.WaitAsync(cancellationToken);
        await client.SendAsync(RpcMessages.Ping(2), cancellationToken);

        (await NextAsync(client, cancellationToken)).Should().Be(RpcMessages.Pong(2), "the ping runs beside the slow call, which is still waiting");
        gate.Started.IsCompleted.Should().BeTrue("the slow call is running");
        gate.Release("late");
        (await NextAsync(client, cancellationToken)).Should().Be(RpcMessages.Result("\"late\"", 1), "the slow call is answered once released");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_slow_call_of_one_connection_does_not_hold_another_connection(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxConcurrency = 1 });
        await using RpcTestClient busy = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient other = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string key, RpcCallGate gate) = RpcCallGate.Create();

        await busy.SendAsync(WaitCall(key, 1), cancellationToken);
        await gate.Started.WaitAsync(cancellationToken);

        (await other.CallAsync(RpcMessages.Ping(2), cancellationToken)).Should().Be(RpcMessages.Pong(2), "--max-concurrency is per connection");
        gate.Release();
        (await NextAsync(busy, cancellationToken)).Should().Be(RpcMessages.Result("\"released\"", 1), "the slow call finishes normally");
    }

    internal static string WaitCall(string key, int id) =>
        string.Create(CultureInfo.InvariantCulture, $$"""{"jsonrpc":"2.0","method":"test.wait","params":{"key":"{{key}}"},"id":{{id}}}""");

    internal static async Task<string> NextAsync(RpcTestClient client, CancellationToken cancellationToken)
    {
        (string Text, WebSocketMessageType Type)? message = await client.ReceiveAsync(cancellationToken);
        message.Should().NotBeNull($"the server must answer rather than close the connection ({client.CloseStatus})");
        return message!.Value.Text;
    }
}
