using System.Net.WebSockets;
using CameraRpc.Tests.EndToEnd.Methods;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>
/// The end of a connection: a client that disconnects cancels its calls' <see cref="CancellationToken"/>,
/// and <c>--idle-timeout</c> closes a silent connection with 1001. In-process server.
/// </summary>
[NonParallelizable]
public sealed class ConnectionLifetimeTests
{
    [Test, CancelAfter(30_000)]
    public async Task a_client_that_drops_the_connection_cancels_its_calls(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string key, RpcCallGate gate) = RpcCallGate.Create();
        await client.SendAsync(BackPressureTests.WaitCall(key, 1), cancellationToken);
        await gate.Started.WaitAsync(cancellationToken);

        client.Socket.Abort(); // the TCP connection goes away without a close handshake
        await client.DisposeAsync();

        await gate.Cancelled.WaitAsync(cancellationToken); // reaching this line is the assertion: the token fired
    }

    [Test, CancelAfter(30_000)]
    public async Task a_client_that_drops_the_connection_at_max_concurrency_cancels_its_calls(CancellationToken cancellationToken)
    {
        // At --max-concurrency the server stops reading the connection (back-pressure), so it cannot
        // learn of the disconnect by reading: a call waiting for an event must still be cancelled.
        await using InProcessServer server = InProcessServer.Start(o => o with { MaxConcurrency = 1, ShutdownTimeout = TimeSpan.FromSeconds(1) });
        RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string key, RpcCallGate gate) = RpcCallGate.Create();
        await client.SendAsync(BackPressureTests.WaitCall(key, 1), cancellationToken);
        await gate.Started.WaitAsync(cancellationToken);
        await client.SendAsync(RpcMessages.Ping(2), cancellationToken); // waits, unread, in front of the hang-up

        client.Socket.Abort();
        await client.DisposeAsync();

        await gate.Cancelled.WaitAsync(cancellationToken); // reaching this line is the assertion: the token fired
        (await ServerProbe.PollUntilAsync(ct => ServerProbe.HealthConnectionsAsync(server.Port, ct), n => n == 0, cancellationToken))
            .Should().Be(0, "the connection is released once its call has ended");
    }

    [Test, CancelAfter(5_000)]
    public async Task a_client_that_closes_the_connection_cancels_its_calls(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string key, RpcCallGate gate) = RpcCallGate.Create();
        await client.SendAsync(BackPressureTests.WaitCall(key, 1), cancellationToken);
        await gate.Started.WaitAsync(cancellationToken);

        try
        {
            // A clean goodbye: the client sends its close frame and will read nothing more.
            await client.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);

            await gate.Cancelled.WaitAsync(cancellationToken); // reaching this line is the assertion: the token fired
        }
        finally
        {
            gate.Release(); // should the token not fire, the call must still end for the teardown to be quick
        }
    }

    [Test, CancelAfter(5_000)]
    public async Task an_idle_connection_is_closed_with_1001_after_idle_timeout(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { IdleTimeout = TimeSpan.FromSeconds(1), ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (await client.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "the connection works before it falls idle");

        (await client.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.EndpointUnavailable, "a connection silent for --idle-timeout is closed with 1001");
    }

    [Test, CancelAfter(5_000)]
    public async Task a_connection_waiting_for_a_slow_call_is_not_idle(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { IdleTimeout = TimeSpan.FromSeconds(1), ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using RpcTestClient waiting = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient silent = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (string key, RpcCallGate gate) = RpcCallGate.Create();
        await waiting.SendAsync(BackPressureTests.WaitCall(key, 1), cancellationToken);
        await gate.Started.WaitAsync(cancellationToken);

        try
        {
            // The silent connection's close proves a sweep ran past the timeout; the waiting one must still be open.
            (await silent.WaitForCloseAsync(cancellationToken)).Should().Be(WebSocketCloseStatus.EndpointUnavailable, "the silent connection times out");
        }
        finally
        {
            gate.Release();
        }

        (await BackPressureTests.NextAsync(waiting, cancellationToken)).Should().Be(RpcMessages.Result("\"released\"", 1), "a connection with a call in flight is not idle");
    }
}
