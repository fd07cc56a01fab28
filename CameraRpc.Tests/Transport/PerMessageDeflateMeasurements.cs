using System.Net.WebSockets;
using System.Text;
using CameraRpc.Server.Transport;

namespace CameraRpc.Tests.Transport;

/// <summary>
/// The measurements behind the permessage-deflate defaults (BENCHMARKS.md, "permessage-deflate"):
/// bytes, never time, so they mean something on a busy machine. Explicit: they print figures and
/// assert nothing beyond their own sanity. Run each memory case in a process of its own (memory
/// freed by one case is reused by the next, which would hide it), e.g.
/// <c>dotnet test CameraRpc.Tests/bin/Release/net10.0/CameraRpc.Tests.dll --filter "Name=resident_memory_of_an_idle_server_websocket\(True,True,15,15\)"</c>,
/// and the byte counts with <c>--filter "Name=wire_bytes_of_typical_answers"</c>.
/// </summary>
/// <remarks>
/// A server-side <see cref="WebSocket"/> from <see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/> over a stream
/// that plays a client: it delivers one compressed 4 KiB request, swallows what is sent, and then
/// never has more to read, so the WebSocket idles in a zero-byte receive as the server's do. The
/// resident memory of this process is read before and after opening many of them.
/// </remarks>
[TestFixture, Explicit("measurements for BENCHMARKS.md; they print figures")]
[NonParallelizable]
public sealed class PerMessageDeflateMeasurements
{
    private static readonly string s_document = ControlsDocument(4000);

    [TestCase(false, false, 15, 15)]
    [TestCase(true, false, 15, 15)]
    [TestCase(false, true, 15, 15)]
    [TestCase(true, true, 15, 15)]
    [TestCase(true, true, 12, 12)]
    [TestCase(true, true, 9, 9)]
    [TestCase(false, false, 9, 9)]
    [TestCase(false, false, 0, 0)]
    public async Task resident_memory_of_an_idle_server_websocket(bool serverTakeover, bool clientTakeover, int serverBits, int clientBits)
    {
        const int Count = 3000;
        WebSocketDeflateOptions? Options() => serverBits == 0 ? null : new()
        {
            ServerContextTakeover = serverTakeover, ClientContextTakeover = clientTakeover, ServerMaxWindowBits = serverBits, ClientMaxWindowBits = clientBits,
        };
        byte[] message = Encoding.UTF8.GetBytes(s_document);
        byte[] request = await ClientFrameAsync(message, Options());
        var idle = new List<(WebSocket Socket, Task Receive)>();
        await OpenAsync(200, idle, request, message, Options); // pools, code and zlib loaded before the first reading
        Settle();
        long rssBefore = RssBytes(), heapBefore = GC.GetTotalMemory(true);
        await OpenAsync(Count, idle, request, message, Options);
        Settle();
        long rssAfter = RssBytes(), heapAfter = GC.GetTotalMemory(true);

        string setting = serverBits == 0 ? "uncompressed" : $"server takeover {serverTakeover}, client takeover {clientTakeover}, windows {serverBits}/{clientBits}";
        TestContext.Out.WriteLine($"{setting}: RSS {(rssAfter - rssBefore) / 1024.0 / Count:F1} KiB per idle WebSocket, managed {(heapAfter - heapBefore) / 1024.0 / Count:F2} KiB");
        GC.KeepAlive(idle);
    }

    [Test]
    public async Task wire_bytes_of_typical_answers()
    {
        var rng = new Random(1);
        byte[] jpeg = new byte[12 * 1024];
        rng.NextBytes(jpeg);
        (string Name, string Text)[] samples =
        [
            ("pong", """{"jsonrpc":"2.0","result":"pong","id":1}"""),
            ("echo of a small JSON object", """{"jsonrpc":"2.0","result":{"camera":"cam-01","exposure":12.5,"gain":3,"auto":true},"id":42}"""),
            ("one control description", ControlsDocument(150)),
            ("two control descriptions", ControlsDocument(270)),
            ("rpc.discover (built-ins)", RpcDiscoverOfBuiltIns()),
            ("a 1 KiB JSON document", ControlsDocument(1000)),
            ("a 4 KiB JSON document", s_document),
            ("a base64 snapshot (12 KiB of random bytes)", "{\"jsonrpc\":\"2.0\",\"result\":{\"format\":\"jpeg\",\"data\":\"" + Convert.ToBase64String(jpeg) + "\"},\"id\":9}"),
        ];
        TestContext.Out.WriteLine("| message | bytes | window 15 | window 12 | window 9 | 10th identical message, with context takeover |");
        TestContext.Out.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach ((string name, string text) in samples)
        {
            byte[] payload = Encoding.UTF8.GetBytes(text);
            TestContext.Out.WriteLine(
                $"| {name} | {payload.Length} | {await ServerPayloadBytesAsync(payload, 15, false, 1)} | {await ServerPayloadBytesAsync(payload, 12, false, 1)} | " +
                $"{await ServerPayloadBytesAsync(payload, 9, false, 1)} | {await ServerPayloadBytesAsync(payload, 15, true, 10)} |");
        }
    }

    private static async Task OpenAsync(int count, List<(WebSocket, Task)> idle, byte[] request, byte[] message, Func<WebSocketDeflateOptions?> options)
    {
        byte[] buffer = new byte[64 * 1024];
        for (int i = 0; i < count; i++)
        {
            WebSocket socket = WebSocket.CreateFromStream(new ScriptedPeerStream(request), new WebSocketCreationOptions
            {
                IsServer = true, KeepAliveInterval = TimeSpan.Zero, DangerousDeflateOptions = options(),
            });
            int received = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(received), CancellationToken.None);
                received += result.Count;
            }
            while (!result.EndOfMessage);

            received.Should().Be(message.Length);
            await socket.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
            idle.Add((socket, socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask()));
        }
    }

    private static async Task<byte[]> ClientFrameAsync(byte[] message, WebSocketDeflateOptions? options)
    {
        var sent = new MemoryStream();
        using WebSocket client = WebSocket.CreateFromStream(new ScriptedPeerStream([], sent), new WebSocketCreationOptions
        {
            IsServer = false, KeepAliveInterval = TimeSpan.Zero, DangerousDeflateOptions = options,
        });
        await client.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
        return sent.ToArray();
    }

    /// <summary>The payload bytes (frame header left out) of the last of <paramref name="repeat"/> sends of one message.</summary>
    private static async Task<int> ServerPayloadBytesAsync(byte[] payload, int bits, bool takeover, int repeat)
    {
        var sent = new MemoryStream();
        using WebSocket server = WebSocket.CreateFromStream(new ScriptedPeerStream([], sent), new WebSocketCreationOptions
        {
            IsServer = true, KeepAliveInterval = TimeSpan.Zero,
            DangerousDeflateOptions = new() { ServerMaxWindowBits = bits, ServerContextTakeover = takeover, ClientContextTakeover = takeover },
        });
        long before = 0;
        for (int i = 0; i < repeat; i++)
        {
            before = sent.Length;
            await server.SendAsync(payload, WebSocketMessageType.Text, true, CancellationToken.None);
        }

        int frame = (int)(sent.Length - before);
        return frame - (frame - 2 <= 125 ? 2 : frame - 4 <= ushort.MaxValue ? 4 : 10);
    }

    /// <summary>A JSON answer listing camera controls, about <paramref name="length"/> bytes long.</summary>
    private static string ControlsDocument(int length)
    {
        var text = new StringBuilder("""{"jsonrpc":"2.0","result":{"device":"/dev/video0","controls":[""");
        for (int i = 0; text.Length < length - 80; i++)
        {
            text.Append(i == 0 ? "" : ",").Append($$"""{"id":{{9963776 + i}},"name":"control_{{i}}","min":0,"max":255,"step":1,"default":128,"value":{{i * 37 % 256}}}""");
        }

        return text.Append("]},\"id\":7}").ToString();
    }

    private static string RpcDiscoverOfBuiltIns()
    {
        var answer = new CameraRpc.Protocol.RpcResponseBuffer();
        var dispatcher = new CameraRpc.Protocol.RpcDispatcher(CameraRpc.Protocol.BuiltInRpcMethods.Table);
        dispatcher.DispatchAsync("""{"jsonrpc":"2.0","method":"rpc.discover","id":1}"""u8.ToArray(), answer, new CameraRpc.Protocol.RpcContext(dispatcher, 1, null, null), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(answer.WrittenSpan);
    }

    private static void Settle()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    private static long RssBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>A client as a stream: delivers <paramref name="input"/>, records what is written, then never has more to read.</summary>
    private sealed class ScriptedPeerStream(byte[] input, Stream? sent = null) : Stream
    {
        private readonly TaskCompletionSource<int> _never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            if (_position == input.Length)
            {
                return new ValueTask<int>(_never.Task);
            }

            int count = Math.Min(destination.Length, input.Length - _position);
            input.AsSpan(_position, count).CopyTo(destination.Span);
            _position += count;
            return new ValueTask<int>(count);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            sent?.Write(source.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => sent?.Write(buffer, offset, count);

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
