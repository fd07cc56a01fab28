using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Hardening;

/// <summary>
/// Peers that vanish without a FIN or a RST (a laptop that sleeps, a pulled cable) are found by the
/// WebSocket keep-alive: the server pings, and a peer that does not answer is released. A peer that has
/// vanished and one that is connected but never answers look the same from the server, so the test
/// uses the second. The product pings every 30 s and waits 20 s; the server here is hosted in process
/// with shorter keep-alive timings so that the test takes seconds, not a minute.
/// </summary>
[Parallelizable(ParallelScope.Self)]
public sealed class DeadPeerTests
{
    [Test, CancelAfter(60_000)]
    public async Task a_peer_that_never_answers_pings_is_released_while_one_that_answers_stays(CancellationToken cancellationToken)
    {
        // The timeout leaves the answering client seconds to answer each ping, however slow the machine.
        await using InProcessServer server = InProcessServer.Start(o => o with
        {
            KeepAliveInterval = TimeSpan.FromMilliseconds(200),
            KeepAliveTimeout = TimeSpan.FromSeconds(2),
        });
        await using RawWebSocket silent = await RawWebSocket.ConnectAsync(server.Port, cancellationToken);
        await using RawWebSocket answering = await RawWebSocket.ConnectAsync(server.Port, cancellationToken);
        silent.HandshakeStatus.Should().Be(101);
        answering.HandshakeStatus.Should().Be(101);
        await silent.SendTextAsync(RpcMessages.Ping(1), cancellationToken);
        (await silent.ReadMessageAsync(cancellationToken))!.Value.Text.Should().Be(RpcMessages.Pong(1), "the silent peer's connection worked");

        // From here the silent peer reads whatever arrives and answers nothing, as a vanished one would.
        Task<int> silentPings = CountPingsUntilTheEndAsync(silent, cancellationToken);
        int id = 2;
        while (!silentPings.IsCompleted)
        {
            (await CallAnsweringPingsAsync(answering, id, cancellationToken)).Should().Be(RpcMessages.Pong(id), "a peer that answers pings is served throughout");
            id++;
        }

        (await silentPings).Should().BeGreaterThan(0, "the server pinged the quiet peer before it let it go");
        (await ServerProbe.PollUntilAsync(ct => ServerProbe.HealthConnectionsAsync(server.Port, ct), n => n == 1, cancellationToken))
            .Should().Be(1, "the dead peer's slot is freed; the answering peer keeps its own");
        (await CallAnsweringPingsAsync(answering, id, cancellationToken)).Should().Be(RpcMessages.Pong(id), "the answering peer is still connected and served");
    }

    /// <summary>Reads frames without answering any until the server ends the connection; the number of pings seen.</summary>
    private static async Task<int> CountPingsUntilTheEndAsync(RawWebSocket socket, CancellationToken cancellationToken)
    {
        int pings = 0;
        while (await socket.ReadFrameAsync(cancellationToken) is { } frame)
        {
            pings += frame.Opcode == RawWebSocket.OpPing ? 1 : 0;
        }

        return pings;
    }

    /// <summary>One call; pings that arrive before its answer are answered with pongs, as every WebSocket client does.</summary>
    private static async Task<string?> CallAnsweringPingsAsync(RawWebSocket socket, int id, CancellationToken cancellationToken)
    {
        await socket.SendTextAsync(RpcMessages.Ping(id), cancellationToken);
        while (await socket.ReadFrameAsync(cancellationToken) is { } frame)
        {
            if (frame.Opcode == RawWebSocket.OpPing)
            {
                await socket.SendFrameAsync(RawWebSocket.OpPong, frame.Payload, cancellationToken);
            }
            else if (frame.Opcode == RawWebSocket.OpText)
            {
                return frame.Text;
            }
        }

        return null;
    }
}
