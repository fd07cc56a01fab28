using System.Globalization;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using CameraRpc.Tests.EndToEnd;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Hardening;

/// <summary>
/// What a hostile or broken compressing client can do to the real server (CONTRACT section 7): a
/// deflate bomb, a corrupted deflate stream, many idle compressed connections. Each case ends only
/// its own connection; a bystander keeps being served. Memory is read from the server's
/// <c>/proc/PID/status</c> with generous bounds, never timed.
/// </summary>
[NonParallelizable]
public sealed partial class CompressionAbuseTests
{
    private const string Offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits";

    private ServerProcess _server = null!;

    [SetUp]
    public async Task StartAsync()
    {
        using var startup = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _server = await ServerProcess.StartAsync(startup.Token);
    }

    [TearDown]
    public async Task StopAsync() => await _server.DisposeAsync();

    [Test, CancelAfter(120_000)]
    public async Task a_deflate_bomb_closes_with_1009_without_ever_being_held_whole(CancellationToken cancellationToken)
    {
        const long Inflated = 4L << 30; // 4 GiB of zeros, 4 MiB on the wire
        byte[] bomb = await Task.Run(() => PerMessageDeflateCodec.Bomb(Inflated), cancellationToken);
        await using RpcTestClient bystander = await ConnectBystanderAsync(cancellationToken);
        await using RawWebSocket attacker = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken, extraHeaders: [Offer]);
        attacker.PerMessageDeflate.Should().BeTrue();
        long peakBefore = StatusKib(_server.ProcessId, "VmHWM");

        Task send = attacker.SendRawAsync(RawWebSocket.EncodeFrame(RawWebSocket.OpText, bomb, rsv: 4), cancellationToken);
        int code = await attacker.ReadCloseCodeAsync(cancellationToken);
        await send.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default); // the server may stop reading

        code.Should().Be(1009, "the inflated size counts against --max-message-bytes (1 MiB by default)");
        long grown = StatusKib(_server.ProcessId, "VmHWM") - peakBefore;
        TestContext.Out.WriteLine($"bomb: {bomb.Length / 1024} KiB on the wire, {Inflated >> 20} MiB inflated; the server's peak RSS grew {grown} KiB");
        grown.Should().BeLessThan(64 * 1024, "at most the limit's worth is ever inflated, never the 4 GiB");
        (await bystander.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":"after"}""", cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":"after"}""", "other connections keep working");
    }

    private static IEnumerable<TestCaseData> CorruptedStreams()
    {
        yield return new TestCaseData(new byte[] { 0xff, 0xff, 0xff, 0xff }).SetName("a reserved deflate block type (11) fails the connection");
        yield return new TestCaseData(new byte[] { 0x00, 0x05, 0x00, 0x00, 0x00 }).SetName("a stored block whose length check does not match fails the connection");
        yield return new TestCaseData(new byte[] { 0x04, 0xc0, 0x81, 0x08, 0x00, 0x00, 0x00, 0x00, 0x20, 0x7f, 0xeb, 0xff }).SetName("a distance reaching before the start fails the connection");
    }

    [TestCaseSource(nameof(CorruptedStreams)), CancelAfter(30_000)]
    public async Task a_corrupted_deflate_stream_fails_only_its_own_connection(byte[] payload, CancellationToken cancellationToken)
    {
        await using RpcTestClient bystander = await ConnectBystanderAsync(cancellationToken);
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken, extraHeaders: [Offer]);

        await socket.SendRawAsync(RawWebSocket.EncodeFrame(RawWebSocket.OpText, payload, rsv: 4), cancellationToken);
        int code = await socket.ReadCloseCodeAsync(cancellationToken);

        code.Should().Be(1006,
            "RFC 7692 section 8 says to fail the connection; the runtime's WebSocket does it by aborting the TCP connection without a close frame, which a client reports as 1006");
        (await bystander.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":1}""", cancellationToken))
            .Should().Be("""{"jsonrpc":"2.0","result":"pong","id":1}""", "other connections keep working");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_compressed_continuation_frame_is_a_protocol_error(CancellationToken cancellationToken)
    {
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken, extraHeaders: [Offer]);
        byte[] first = PerMessageDeflateCodec.Compress("""{"jsonrpc":"2.0","""u8);

        await socket.SendRawAsync(RawWebSocket.EncodeFrame(RawWebSocket.OpText, first, fin: false, rsv: 4), cancellationToken);
        await socket.SendRawAsync(RawWebSocket.EncodeFrame(RawWebSocket.OpContinuation, "x"u8, rsv: 4), cancellationToken);

        (await socket.ReadCloseCodeAsync(cancellationToken)).Should().Be(1002, "RFC 7692 section 6.1: only the first frame of a message carries RSV1");
    }

    [Test, CancelAfter(180_000)]
    public async Task an_idle_connection_that_negotiated_compression_holds_no_compressor(CancellationToken cancellationToken)
    {
        const int Connections = 1000;
        ServerProbe.EnsureOpenFiles((ulong)(4 * Connections));
        string document = CompressionTests.SampleDocument(4096);
        var sockets = new List<RawWebSocket>(Connections);
        try
        {
            // Warm the server up first, so that pools and code paths touched once are not counted.
            await OpenAndEchoAsync(sockets, 50, document, cancellationToken);
            long before = await SettledRssKibAsync(cancellationToken);
            await OpenAndEchoAsync(sockets, Connections, document, cancellationToken);
            long after = await SettledRssKibAsync(cancellationToken);

            double perConnection = (after - before) / (double)Connections;
            TestContext.Out.WriteLine($"{Connections} idle connections that each compressed a 4 KiB answer and inflated a 4 KiB request: RSS {before} -> {after} KiB, {perConnection:F1} KiB per connection");
            // Generous: the figure includes garbage of the echoes not yet collected and a fixed ~8 MiB the C
            // allocator keeps after the compressors it freed (BENCHMARKS.md, "permessage-deflate"); a
            // compressor kept per connection would be about 240 KiB each.
            perConnection.Should().BeLessThan(64, "an idle connection holds no deflate or inflate state");
        }
        finally
        {
            foreach (RawWebSocket socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    private async Task OpenAndEchoAsync(List<RawWebSocket> sockets, int count, string document, CancellationToken cancellationToken)
    {
        for (int i = 0; i < count; i++)
        {
            RawWebSocket socket = await RawWebSocket.ConnectAsync(_server.Port, cancellationToken, extraHeaders: [Offer]);
            sockets.Add(socket);
            socket.PerMessageDeflate.Should().BeTrue();
            await socket.SendTextAsync(CompressionTests.EchoRequest(document, i), cancellationToken);
            RawFrame answer = (await socket.ReadMessageAsync(cancellationToken))!.Value;
            answer.Rsv1.Should().BeTrue("the answer was compressed, so the server did build a compressor for it");

            answer.Text.Should().Be(CompressionTests.EchoAnswer(document, i));
        }
    }

    /// <summary>
    /// The server's RSS once its memory housekeeping (a collection in the first quiet second) has run:
    /// the lowest of the readings over a few quiet seconds. A measurement, not a synchronisation.
    /// </summary>
    private async Task<long> SettledRssKibAsync(CancellationToken cancellationToken)
    {
        long lowest = long.MaxValue;
        for (int i = 0; i < 12; i++)
        {
            lowest = Math.Min(lowest, ServerProbe.RssKib(_server.ProcessId));
            await Task.Delay(250, cancellationToken);
        }

        return lowest;
    }

    private async Task<RpcTestClient> ConnectBystanderAsync(CancellationToken cancellationToken)
    {
        RpcTestClient bystander = await RpcTestClient.ConnectAsync(_server.WebSocketUri, cancellationToken,
            options => options.DangerousDeflateOptions = new WebSocketDeflateOptions());
        (await bystander.CallAsync("""{"jsonrpc":"2.0","method":"ping","id":"before"}""", cancellationToken)).Should().Contain("pong");
        return bystander;
    }

    private static long StatusKib(int pid, string field)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(Digits().Match(line).Value, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no {field}");
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();
}
