using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using CameraRpc.Tests.Hardening.Methods;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Hardening;

/// <summary>
/// Clients that fail in every way a network lets them: vanish mid-message, mid-handshake or with calls
/// in flight, never read, or hold half-open requests. The server keeps serving everyone else and
/// forgets the failed clients (its <c>/healthz</c> count returns to where it was).
/// </summary>
[NonParallelizable]
public sealed class FaultTests
{
    [Test, CancelAfter(60_000)]
    public async Task clients_that_vanish_mid_message_mid_handshake_or_with_200_calls_in_flight_leave_no_trace(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using SteadyClient steady = await SteadyClient.StartAsync(server.WebSocketUri, cancellationToken);
        int before = await ServerProbe.HealthConnectionsAsync(server.Port, cancellationToken);
        before.Should().Be(1, "only the steady client is connected");

        var vanished = new List<RawWebSocket>();

        // Mid-message: a frame header that promises 1000 bytes, ten of them, then gone (half with RST, half with FIN).
        for (int i = 0; i < 20; i++)
        {
            RawWebSocket socket = await RawWebSocket.ConnectAsync(server.Port, cancellationToken);
            byte[] frame = RawWebSocket.EncodeFrame(RawWebSocket.OpText, new byte[1000]);
            await socket.SendRawAsync(frame.AsMemory(0, 18), cancellationToken);
            vanished.Add(socket);
        }

        // Mid-handshake: half an upgrade request.
        for (int i = 0; i < 20; i++)
        {
            RawWebSocket socket = await RawWebSocket.ConnectTcpAsync(server.Port, cancellationToken);
            string request = RawWebSocket.UpgradeRequest(server.Port);
            await socket.SendRawAsync(Encoding.ASCII.GetBytes(request[..(request.Length / 2)]), cancellationToken);
            vanished.Add(socket);
        }

        // 200 pipelined calls in flight, then gone before reading a single answer.
        for (int i = 0; i < 10; i++)
        {
            RawWebSocket socket = await RawWebSocket.ConnectAsync(server.Port, cancellationToken);
            var calls = new MemoryStream();
            for (int id = 0; id < 200; id++)
            {
                calls.Write(RawWebSocket.EncodeFrame(RawWebSocket.OpText, Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","method":"echo","params":["{{new string('x', 2000)}}"],"id":{{id}}}""")));
            }

            await socket.SendRawAsync(calls.ToArray(), cancellationToken);
            vanished.Add(socket);
        }

        int peak = await ServerProbe.PollUntilAsync(ct => ServerProbe.HealthConnectionsAsync(server.Port, ct), n => n >= before + 30, cancellationToken);
        TestContext.Out.WriteLine($"connections: {before} before, {peak} with the doomed clients");

        for (int i = 0; i < vanished.Count; i++)
        {
            if (i % 2 == 0)
            {
                vanished[i].Reset();
            }
            else
            {
                await vanished[i].DisposeAsync();
            }
        }

        int after = await ServerProbe.PollUntilAsync(ct => ServerProbe.HealthConnectionsAsync(server.Port, ct), n => n == before, cancellationToken, within: TimeSpan.FromSeconds(15));
        after.Should().Be(before, "every vanished client is forgotten (polled for 15 s)");
        await steady.WaitForProgressAsync(10, cancellationToken);
        int answered = await steady.StopAsync();
        TestContext.Out.WriteLine($"steady client: {answered} answers, all correct");
        server.Lines.Should().NotContain(l => l.Contains("Unhandled", StringComparison.Ordinal), "no failure escapes to the process");
    }

    [Test, CancelAfter(60_000)]
    public async Task clients_that_vanish_while_200_calls_are_executing_have_those_calls_cancelled_and_are_forgotten(CancellationToken cancellationToken)
    {
        const int Clients = 5;
        const int CallsEach = 40; // under the default --max-concurrency of 64: every call is executing, none waits to be read
        (string key, HardeningGate gate) = HardeningGate.Create();
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using SteadyClient steady = await SteadyClient.StartAsync(server.WebSocketUri, cancellationToken);
        try
        {
            var doomed = new List<RawWebSocket>();
            for (int c = 0; c < Clients; c++)
            {
                RawWebSocket socket = await RawWebSocket.ConnectAsync(server.Port, cancellationToken);
                socket.HandshakeStatus.Should().Be(101);
                var calls = new MemoryStream();
                for (int i = 0; i < CallsEach; i++)
                {
                    calls.Write(RawWebSocket.EncodeFrame(RawWebSocket.OpText, Encoding.UTF8.GetBytes(HardeningGate.Call(key, i, $"{(c * CallsEach) + i}"))));
                }

                await socket.SendRawAsync(calls.ToArray(), cancellationToken);
                doomed.Add(socket);
            }

            await gate.WhenEnteredAsync(Clients * CallsEach, cancellationToken);
            gate.Inside.Should().Be(Clients * CallsEach, "all 200 calls are executing, held at the gate, when their clients vanish");
            (await ServerProbe.MetricAsync(server.Port, "camerarpc_connections", cancellationToken)).Should().Be(Clients + 1);

            // Gone without a close frame: some with a RST, the others with a FIN.
            for (int c = 0; c < doomed.Count; c++)
            {
                if (c % 2 == 0)
                {
                    doomed[c].Reset();
                }
                else
                {
                    await doomed[c].DisposeAsync();
                }
            }

            // The gate never opens: a call can only end by its token. The bound only turns a hang into a clear failure.
            using (var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                bound.CancelAfter(TimeSpan.FromSeconds(30));
                try
                {
                    await gate.WhenCancelledAsync(Clients * CallsEach, bound.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    gate.Cancelled.Should().Be(Clients * CallsEach, "every executing call of a vanished client has its CancellationToken cancelled (waited 30 s)");
                }
            }

            gate.Inside.Should().Be(0, "every call of the vanished clients ended");
            gate.Cancelled.Should().Be(Clients * CallsEach, "each call saw its CancellationToken fire when its client vanished");

            double gauge = await ServerProbe.PollUntilAsync(ct => ServerProbe.MetricAsync(server.Port, "camerarpc_connections", ct), g => g == 1, cancellationToken);
            gauge.Should().Be(1, "the vanished connections are gone from camerarpc_connections; the steady client remains");
            await steady.WaitForProgressAsync(10, cancellationToken);
            await steady.StopAsync();
            gauge = await ServerProbe.PollUntilAsync(ct => ServerProbe.MetricAsync(server.Port, "camerarpc_connections", ct), g => g == 0, cancellationToken);
            gauge.Should().Be(0, "with the steady client gone too, the gauge is back to 0");

            await using RpcTestClient next = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
            (await next.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":1}""", cancellationToken))
                .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":1}""", "another client is served after the vanished ones");
        }
        finally
        {
            gate.Open(); // should a token never fire, the calls must still end for the server to stop
        }
    }

    [Test, CancelAfter(90_000)]
    public async Task a_client_that_sends_but_never_reads_is_dropped_at_the_queue_cap_and_others_are_unaffected(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using SteadyClient steady = await SteadyClient.StartAsync(server.WebSocketUri, cancellationToken);
        int before = await ServerProbe.HealthConnectionsAsync(server.Port, cancellationToken);

        // A tiny receive window, and echo calls whose answers are as large as the requests (512 KB each):
        // 96 of them are 48 MB of answers, far past the 16 MiB the server queues for one connection.
        await using RawWebSocket hog = await RawWebSocket.ConnectAsync(server.Port, cancellationToken, receiveBufferSize: 4096);
        hog.HandshakeStatus.Should().Be(101);
        byte[] payload = Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","method":"echo","params":["{{new string('z', 512 * 1024)}}"],"id":1}""");
        byte[] frame = RawWebSocket.EncodeFrame(RawWebSocket.OpText, payload);
        int sent = 0;

        // Generous bound: the server needs well under a second to queue 16 MiB; a hang here is the failure.
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(TimeSpan.FromSeconds(20));
        int code = 0;
        try
        {
            for (; sent < 96; sent++)
            {
                await hog.SendRawAsync(frame, bound.Token);
            }

            code = await hog.ReadCloseCodeAsync(bound.Token);
        }
        catch (IOException)
        {
            code = 1006; // reset by the server while still sending: the drop happened
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            code = -1;
        }

        TestContext.Out.WriteLine($"the non-reading client sent {sent} calls of {payload.Length} bytes; it observed {code}");
        // The log is written by a background writer: wait for the line rather than expect it already there.
        string noticed = await server.WaitForLineAsync(l => l.Contains("is not reading its answers", StringComparison.Ordinal), cancellationToken);
        noticed.Should().Contain("WARNING", "the server noticed the client does not read and says so");
        code.Should().Be(1006, "a client that does not read cannot receive a close frame either: the server drops the TCP connection and the client observes 1006 (reset/EOF, no close frame) within 20 s, not a connection left hanging (-1)");

        int after = await ServerProbe.PollUntilAsync(ct => ServerProbe.HealthConnectionsAsync(server.Port, ct), n => n == before, cancellationToken, within: TimeSpan.FromSeconds(15));
        after.Should().Be(before, "the dropped client's slot is freed (polled for 15 s)");
        await steady.WaitForProgressAsync(10, cancellationToken);
        await steady.StopAsync();
    }

    [Test, CancelAfter(90_000)]
    public async Task a_thousand_half_open_upgrade_requests_do_not_stop_a_normal_client_and_their_cost_is_measured(CancellationToken cancellationToken)
    {
        const int Count = 1000;
        ServerProbe.EnsureOpenFiles(8192).Should().BeGreaterThanOrEqualTo(Count + 200, "the test needs a descriptor per half-open request");
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using SteadyClient steady = await SteadyClient.StartAsync(server.WebSocketUri, cancellationToken);
        await steady.WaitForProgressAsync(20, cancellationToken); // warm: the baseline includes a served client

        GC.KeepAlive(await ServerProbe.HealthConnectionsAsync(server.Port, cancellationToken));
        long rssBefore = ServerProbe.RssKib(server.ProcessId);
        int fdsBefore = ServerProbe.OpenDescriptors(server.ProcessId);
        var loris = new List<RawWebSocket>(Count);
        try
        {
            byte[] partial = Encoding.ASCII.GetBytes($"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\nUpgrade: web");
            for (int i = 0; i < Count; i++)
            {
                RawWebSocket socket = await RawWebSocket.ConnectTcpAsync(server.Port, cancellationToken);
                await socket.SendRawAsync(partial, cancellationToken);
                loris.Add(socket);
            }

            // The server has accepted them all once its descriptor count shows them (bounded by the test's timeout).
            int fdsDuring = await ServerProbe.PollUntilAsync(_ => Task.FromResult(ServerProbe.OpenDescriptors(server.ProcessId)), n => n >= fdsBefore + Count, cancellationToken);
            await steady.WaitForProgressAsync(50, cancellationToken); // served while all 1000 are held
            await using (RpcTestClient fresh = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken))
            {
                (await fresh.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":1}""", cancellationToken))
                    .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":1}""", "a new client connects and is served while 1000 requests hang half-open");
            }

            long rssDuring = ServerProbe.RssKib(server.ProcessId);
            string report = $"slowloris: {Count} half-open upgrade requests cost the server {fdsDuring - fdsBefore} descriptors "
                + $"({fdsBefore} -> {fdsDuring}) and {rssDuring - rssBefore} KiB RSS ({rssBefore} -> {rssDuring} KiB), "
                + $"{(rssDuring - rssBefore) * 1024.0 / Count:0} bytes each";
            TestContext.Out.WriteLine(report);
            (rssDuring - rssBefore).Should().BeLessThan(256 * 1024, "a half-open request must not cost more than ~256 KiB each on average: " + report);
        }
        finally
        {
            foreach (RawWebSocket socket in loris)
            {
                socket.Reset();
            }
        }

        int fdsAfter = await ServerProbe.PollUntilAsync(_ => Task.FromResult(ServerProbe.OpenDescriptors(server.ProcessId)), n => n <= fdsBefore + 10, cancellationToken);
        TestContext.Out.WriteLine($"after the half-open clients left: {fdsAfter} descriptors");
        await steady.StopAsync();
    }

    [Test, CancelAfter(30_000)]
    public async Task accepted_sockets_carry_tcp_keep_alive_so_a_peer_that_vanished_without_a_fin_is_found(CancellationToken cancellationToken)
    {
        if (!File.Exists("/usr/bin/ss") && !File.Exists("/bin/ss"))
        {
            Assert.Inconclusive("ss (iproute2) is not installed; cannot read the kernel's timers of the accepted socket");
        }

        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (await client.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":1}""", cancellationToken)).Should().Contain("pong");

        // The server's end of the connection: local port = server port. `ss -o` shows its timer.
        // Right after traffic the retransmission timer may show instead; poll (bounded) until the socket is quiet.
        string output = await ServerProbe.PollUntilAsync(
            async ct =>
            {
                var info = new ProcessStartInfo("ss", ["-tno", "state", "established", $"( sport = :{server.Port} )"]) { RedirectStandardOutput = true };
                using Process ss = Process.Start(info)!;
                string text = await ss.StandardOutput.ReadToEndAsync(ct);
                await ss.WaitForExitAsync(ct);
                return text;
            },
            text => text.Contains("keepalive", StringComparison.Ordinal),
            cancellationToken,
            within: TimeSpan.FromSeconds(5));
        TestContext.Out.WriteLine(output);
        output.Should().MatchRegex(@"timer:\(keepalive,(2\d|30)sec", "the accepted socket inherits keep-alive with a 30 s idle time from the listening socket");
    }
}
