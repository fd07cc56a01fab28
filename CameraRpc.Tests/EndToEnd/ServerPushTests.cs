using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary><c>RpcContext.NotifyAsync</c> pushes a notification to the caller over WebSocket; over HTTP it cannot. In-process server.</summary>
[NonParallelizable]
public sealed class ServerPushTests
{
    [Test, CancelAfter(30_000)]
    public async Task a_method_pushes_a_notification_to_its_websocket_client_before_its_answer(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        await client.SendAsync(RpcMessages.Call("test.notify", "[7]", 1), cancellationToken);

        (await BackPressureTests.NextAsync(client, cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","method":"test.event","params":{"n":7}}""", "the notification is pushed while the call runs, so it comes first");
        (await BackPressureTests.NextAsync(client, cancellationToken))
            .Should().Be(RpcMessages.Result("\"sent\"", 1), "then the call's own answer");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_notification_goes_only_to_the_connection_of_the_call(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient caller = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient other = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        await caller.SendAsync(RpcMessages.Call("test.notify", "{\"n\":1}", 1), cancellationToken);
        (await BackPressureTests.NextAsync(caller, cancellationToken)).Should().Contain("\"test.event\"", "the caller gets the notification");
        (await BackPressureTests.NextAsync(caller, cancellationToken)).Should().Be(RpcMessages.Result("\"sent\"", 1), "and its answer");

        (await other.CallAsync(RpcMessages.Ping(2), cancellationToken))
            .Should().Be(RpcMessages.Pong(2), "the other connection's next message is its own answer, not the notification");
    }

    [Test, CancelAfter(30_000)]
    public async Task over_http_a_push_fails_the_call_with_an_error_and_the_server_goes_on(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();

        HttpAnswer answer = await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Call("test.notify", "[1]", 1), cancellationToken);

        answer.Status.Should().Be(200, "the call is answered, with an error");
        answer.Body.Should().Be("""{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}""", "HTTP cannot carry a push, so NotifyAsync throws and the call fails as a handler failure");
        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(2), cancellationToken)).Body.Should().Be(RpcMessages.Pong(2), "the server did not crash");
    }
}
