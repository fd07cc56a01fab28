using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

using CameraRpc.Server.Tools.WebSockets;

namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// Closed-loop WebSocket load: opens N connections (ramped), keeps D requests in flight on each
/// (a new one goes out per answer), warms up, then measures for the given duration and checks
/// every answer's id and result.
/// </summary>
/// <remarks>
/// Built not to be the bottleneck: it speaks WebSocket itself over a plain socket (see
/// <see cref="WebSocketFraming"/>), so the requests that replace the answers of one read leave in
/// one write. Each connection owns one pre-built request buffer (only the
/// id digits are rewritten), one receive buffer, one latency histogram and plain counters, all
/// touched by that connection's single async loop, so the hot path takes no lock and allocates
/// nothing. Answers are read with <see cref="Utf8JsonReader"/> straight from the receive buffer.
/// The per-connection figures are merged once, at the end.
/// </remarks>
internal sealed partial class LoadGenerator
{
    private readonly LoadOptions _options;
    private readonly byte[] _requestPrefix;
    private readonly byte[]? _expectedResult;
    private readonly CancellationTokenSource _abort = new();
    private long _measureStart = long.MaxValue;
    private long _measureEnd = long.MaxValue;

    public LoadGenerator(LoadOptions options)
    {
        _options = options;
        _requestPrefix = BuildRequestPrefix(options.Method, options.ParamsJson);
        _expectedResult = ExpectedResult(options.Method, options.ParamsJson);
    }

    /// <summary>Runs the whole load: connect, warm up, measure, drain, close.</summary>
    public async Task<LoadResult> RunAsync(CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration abortOnCancel = cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _abort);
        int? serverPid = _options.ServerPid
            ?? (ServerProcessCpu.IsLocalHost(_options.Url) ? ServerProcessCpu.FindListeningProcess(_options.Url.Port) : null);

        // Connect phase.
        var connectLatency = new LatencyHistogram();
        var connections = new Connection?[_options.Connections];
        string? firstConnectError = null;
        int failedConnects = 0;
        long connectStarted = Stopwatch.GetTimestamp();
        IPEndPoint? endpoint = await SelfFramedConnect.ResolveAsync(_options.Url, cancellationToken).ConfigureAwait(false);
        async Task ConnectOneAsync(int index)
        {
            (Connection? connection, long ticks, string? error) = _options.Compression
                ? await ConnectCompressedAsync(cancellationToken).ConfigureAwait(false)
                : endpoint is null
                    ? (null, 0, $"cannot connect to {_options.Url}: cannot resolve {_options.Url.DnsSafeHost}")
                    : await ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            connections[index] = connection;
            lock (connectLatency)
            {
                if (connection is not null)
                {
                    connectLatency.RecordTicks(ticks);
                }
                else
                {
                    failedConnects++;
                    firstConnectError ??= error;
                }
            }
        }

        Func<int, Task>? showProgress = _options.Progress is TextWriter progress
            ? started => started % 1000 == 0 ? progress.WriteAsync($"\r  connecting: {started:N0}/{_options.Connections:N0} ") : Task.CompletedTask
            : null;
        await SelfFramedConnect.RampAsync(_options.Connections, _options.MaxPendingConnects, ConnectOneAsync, showProgress, cancellationToken).ConfigureAwait(false);

        TimeSpan connectPhase = Stopwatch.GetElapsedTime(connectStarted);
        Connection[] open = connections.Where(c => c is not null).ToArray()!;
        if (open.Length == 0)
        {
            // Nothing to load: report the connect failure now instead of idling through warm-up and measurement.
            return new LoadResult
            {
                Options = _options,
                ConnectionsOpened = 0,
                ConnectionsFailed = failedConnects,
                ConnectionsDropped = 0,
                ConnectPhase = connectPhase,
                ConnectLatency = connectLatency,
                Sent = 0,
                Answered = 0,
                Failed = 0,
                Lost = 0,
                Mismatched = 0,
                Measured = TimeSpan.Zero,
                Latency = new LatencyHistogram(),
                ServerPid = serverPid,
                BenchCpuSeconds = 0,
                FirstConnectError = firstConnectError,
            };
        }

        // Load phase: the clock is fixed before any request goes out, so every loop can tell warm-up from measurement itself.
        long start = Stopwatch.GetTimestamp();
        _measureStart = start + (long)(_options.Warmup.TotalSeconds * Stopwatch.Frequency);
        _measureEnd = _measureStart + (long)(_options.Duration.TotalSeconds * Stopwatch.Frequency);
        var loops = new Task[open.Length];
        for (int i = 0; i < open.Length; i++)
        {
            loops[i] = _options.Compression ? RunCompressedConnectionAsync(open[i]) : RunConnectionAsync(open[i]);
        }

        await ShowProgressUntilAsync(open, _measureStart, "warm-up", cancellationToken).ConfigureAwait(false);
        double? serverCpuStart = serverPid is int pid0 ? ServerProcessCpu.ReadCpuSeconds(pid0) : null;
        TimeSpan benchCpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        await ShowProgressUntilAsync(open, _measureEnd, "measuring", cancellationToken).ConfigureAwait(false);
        double? serverCpuEnd = serverPid is int pid1 ? ServerProcessCpu.ReadCpuSeconds(pid1) : null;
        TimeSpan benchCpuEnd = Process.GetCurrentProcess().TotalProcessorTime;
        if (_options.Progress is TextWriter clear)
        {
            await clear.WriteAsync("\r" + new string(' ', 100) + "\r").ConfigureAwait(false);
        }

        // Drain: answers still in flight get the grace period, then whatever is left counts as lost.
        _abort.CancelAfter(_options.Grace);
        await Task.WhenAll(loops).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        var latency = new LatencyHistogram();
        long sent = 0, answered = 0, failed = 0, lost = 0, mismatched = 0;
        int dropped = 0, compressed = 0;
        string? firstProblem = null;
        foreach (Connection connection in open)
        {
            latency.Add(connection.Latency);
            sent += connection.Sent;
            answered += connection.Answered;
            failed += connection.Failed;
            lost += connection.Lost;
            mismatched += connection.Mismatched;
            dropped += connection.Dropped ? 1 : 0;
            compressed += connection.Compressed ? 1 : 0;
            firstProblem ??= connection.Problem;
            connection.Dispose();
        }

        return new LoadResult
        {
            Options = _options,
            ConnectionsOpened = open.Length,
            ConnectionsFailed = failedConnects,
            ConnectionsDropped = dropped,
            ConnectionsCompressed = compressed,
            ConnectPhase = connectPhase,
            ConnectLatency = connectLatency,
            Sent = sent,
            Answered = answered,
            Failed = failed,
            Lost = lost,
            Mismatched = mismatched,
            Measured = TimeSpan.FromSeconds((double)(_measureEnd - _measureStart) / Stopwatch.Frequency),
            Latency = latency,
            ServerPid = serverPid,
            ServerCpuSeconds = serverCpuStart is double s0 && serverCpuEnd is double s1 ? s1 - s0 : null,
            BenchCpuSeconds = (benchCpuEnd - benchCpuStart).TotalSeconds,
            FirstProblem = firstProblem,
            FirstConnectError = firstConnectError,
        };
    }

    /// <summary>
    /// <c>{"jsonrpc":"2.0","method":M[,"params":P],"id":</c>: every request is this prefix, the id digits and <c>}</c>.
    /// </summary>
    internal static byte[] BuildRequestPrefix(string method, string? paramsJson)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStringValue(method);
        }

        var prefix = new List<byte>(128);
        prefix.AddRange("{\"jsonrpc\":\"2.0\",\"method\":"u8.ToArray());
        prefix.AddRange(buffer.WrittenSpan.ToArray());
        if (paramsJson is not null)
        {
            prefix.AddRange(",\"params\":"u8.ToArray());
            prefix.AddRange(Encoding.UTF8.GetBytes(paramsJson));
        }

        prefix.AddRange(",\"id\":"u8.ToArray());
        return prefix.ToArray();
    }

    /// <summary>
    /// The result a correct server gives, when the method is a built-in one: <c>"pong"</c> for ping,
    /// the message for echo; null (no check beyond "not an error") for any other method.
    /// </summary>
    internal static byte[]? ExpectedResult(string method, string? paramsJson)
    {
        if (method == "ping")
        {
            return "\"pong\""u8.ToArray();
        }

        if (method != "echo" || paramsJson is null)
        {
            return null;
        }

        using JsonDocument document = JsonDocument.Parse(paramsJson);
        JsonElement root = document.RootElement;
        JsonElement message;
        if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() == 1)
        {
            message = root[0];
        }
        else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("message"u8, out JsonElement named))
        {
            message = named;
        }
        else
        {
            return null;
        }

        return Encoding.UTF8.GetBytes(RpcAnswer.Format(message, indented: false));
    }

    /// <summary>TCP connect and WebSocket upgrade of one connection, timed together.</summary>
    private async Task<(Connection? Connection, long Ticks, string? Error)> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        (Socket? socket, byte[] alreadyReceived, long ticks, string? error) = await SelfFramedConnect.ConnectAsync(
            endpoint, _options.Url, _options.AuthToken, _options.ConnectTimeout, receiveBufferSize: 0, cancellationToken).ConfigureAwait(false);
        return socket is null ? (null, 0, error) : (new Connection(socket, _requestPrefix, _options.Pipeline, alreadyReceived), ticks, null);
    }
}
