using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

using CameraRpc.Server.Tools.WebSockets;

namespace CameraRpc.Server.Tools.Client;

internal sealed partial class LoadGenerator
{
    /// <summary>Close status 1000 (normal closure), big-endian, the payload of our close frame.</summary>
    private static ReadOnlySpan<byte> NormalClosure => [0x03, 0xE8];

    /// <summary>
    /// One connection's loop: fill the pipeline, then for every read handle each answer it brought
    /// and send all the replacement requests in one write, until the measurement ends; then wait
    /// for the answers still in flight and close.
    /// </summary>
    /// <remarks>
    /// Sending and receiving share one loop, so a connection's state has a single owner and needs
    /// no synchronisation; on loopback a send completes synchronously almost always.
    /// </remarks>
    private async Task RunConnectionAsync(Connection connection)
    {
        // Let the caller start every loop first instead of running this one up to its first real wait.
        await Task.Yield();
        Socket socket = connection.Socket!;
        CancellationToken abort = _abort.Token;
        int free = _options.Pipeline;
        bool closing = false;
        try
        {
            while (true)
            {
                free += ProcessFrames(connection, Stopwatch.GetTimestamp(), out bool closedByServer);
                if (closedByServer)
                {
                    if (!closing && (connection.Outstanding.Count > 0 || Stopwatch.GetTimestamp() < _measureEnd))
                    {
                        connection.Dropped = true;
                        connection.Problem ??= $"the server closed a connection with {connection.Outstanding.Count} requests in flight";
                    }

                    break;
                }

                long now = Stopwatch.GetTimestamp();
                if (now < _measureEnd && free > 0)
                {
                    AppendRequests(connection, free, now);
                    free = 0;
                }
                else if (!closing && connection.Outstanding.Count == 0 && now >= _measureEnd)
                {
                    // Everything answered: start the closing handshake and read until the server's close.
                    AppendFrame(connection, WebSocketFraming.Close, NormalClosure);
                    closing = true;
                }

                if (connection.SendLength > 0)
                {
                    int sent = 0;
                    while (sent < connection.SendLength)
                    {
                        sent += await socket.SendAsync(connection.Send.AsMemory(sent, connection.SendLength - sent), SocketFlags.None, abort).ConfigureAwait(false);
                    }

                    connection.SendLength = 0;
                }

                if (connection.ReceiveStart == connection.ReceiveEnd)
                {
                    connection.ReceiveStart = connection.ReceiveEnd = 0;
                }
                else if (connection.ReceiveEnd == connection.Receive.Length)
                {
                    // A frame is cut at the end of the buffer: move it to the front, or make room for a big one.
                    int pending = connection.ReceiveEnd - connection.ReceiveStart;
                    if (connection.ReceiveStart == 0)
                    {
                        Array.Resize(ref connection.Receive, connection.Receive.Length * 2);
                    }
                    else
                    {
                        Buffer.BlockCopy(connection.Receive, connection.ReceiveStart, connection.Receive, 0, pending);
                        connection.ReceiveStart = 0;
                        connection.ReceiveEnd = pending;
                    }
                }

                int received = await socket.ReceiveAsync(connection.Receive.AsMemory(connection.ReceiveEnd), SocketFlags.None, abort).ConfigureAwait(false);
                if (received == 0)
                {
                    if (!closing)
                    {
                        connection.Dropped = true;
                        connection.Problem ??= $"the server ended a connection (TCP) with {connection.Outstanding.Count} requests in flight";
                    }

                    break;
                }

                connection.ReceiveEnd += received;
            }
        }
        catch (OperationCanceledException)
        {
            // The grace period ran out (or the run was cancelled): what is still in flight is lost, counted below.
        }
        catch (Exception exception) when (exception is SocketException or IOException or InvalidDataException)
        {
            MarkBroken(connection, exception, closing);
        }
        finally
        {
            CountLost(connection);
        }
    }

    /// <summary>The connection broke during the run (a failure while closing is not one): it counts as dropped.</summary>
    private static void MarkBroken(Connection connection, Exception exception, bool closing)
    {
        if (!closing)
        {
            connection.Dropped = true;
            connection.Problem ??= $"a connection broke: {RpcConnectionException.Describe(exception)}";
        }
    }

    /// <summary>Once a connection's loop has ended: the measured requests still in flight were never answered.</summary>
    private void CountLost(Connection connection)
    {
        foreach (long sentAt in connection.Outstanding.Values)
        {
            if (sentAt >= _measureStart)
            {
                connection.Lost++;
            }
        }

        if (connection.Lost > 0)
        {
            connection.Problem ??= $"{connection.Lost} requests were never answered";
        }
    }

    /// <summary>Handles every complete frame in the receive buffer; returns how many requests were completed.</summary>
    private int ProcessFrames(Connection connection, long now, out bool closedByServer)
    {
        closedByServer = false;
        int freed = 0;
        while (WebSocketFraming.TryReadFrame(
            connection.Receive.AsSpan(connection.ReceiveStart, connection.ReceiveEnd - connection.ReceiveStart),
            out byte opcode, out bool fin, out int payloadOffset, out int payloadLength))
        {
            ReadOnlySpan<byte> payload = connection.Receive.AsSpan(connection.ReceiveStart + payloadOffset, payloadLength);
            connection.ReceiveStart += payloadOffset + payloadLength;
            switch (opcode)
            {
                case WebSocketFraming.Text or WebSocketFraming.Binary when fin:
                    freed += HandleAnswer(connection, payload, now) ? 1 : 0;
                    break;
                case WebSocketFraming.Text or WebSocketFraming.Binary or WebSocketFraming.Continuation:
                    // A fragmented message: rare, so it may allocate while it is assembled.
                    connection.Fragments ??= new MemoryStream();
                    connection.Fragments.Write(payload);
                    if (fin)
                    {
                        freed += HandleAnswer(connection, connection.Fragments.GetBuffer().AsSpan(0, (int)connection.Fragments.Length), now) ? 1 : 0;
                        connection.Fragments.SetLength(0);
                    }

                    break;
                case WebSocketFraming.Close:
                    closedByServer = true;
                    return freed;
                case WebSocketFraming.Ping:
                    AppendFrame(connection, WebSocketFraming.Pong, payload);
                    break;
                default:
                    break;
            }
        }

        return freed;
    }

    /// <summary>Writes <paramref name="count"/> requests with fresh ids into the send buffer.</summary>
    private void AppendRequests(Connection connection, int count, long now)
    {
        for (int i = 0; i < count; i++)
        {
            AppendFrame(connection, WebSocketFraming.Text, NextRequest(connection, now));
        }
    }

    /// <summary>The next request with a fresh id (in <see cref="Connection.Request"/>), now in flight.</summary>
    private ReadOnlySpan<byte> NextRequest(Connection connection, long now) => connection.Request.AsSpan(0, NextRequestLength(connection, now));

    private int NextRequestLength(Connection connection, long now)
    {
        byte[] request = connection.Request;
        int prefixLength = connection.PrefixLength;
        long id = ++connection.NextId;
        id.TryFormat(request.AsSpan(prefixLength), out int digits, default, System.Globalization.CultureInfo.InvariantCulture);
        request[prefixLength + digits] = (byte)'}';
        connection.Outstanding.Add(id, now);
        if (now >= _measureStart)
        {
            connection.Sent++;
        }

        return prefixLength + digits + 1;
    }

    private static void AppendFrame(Connection connection, byte opcode, ReadOnlySpan<byte> payload)
    {
        int needed = connection.SendLength + WebSocketFraming.MaxClientHeader + payload.Length;
        if (needed > connection.Send.Length)
        {
            Array.Resize(ref connection.Send, Math.Max(needed, connection.Send.Length * 2));
        }

        // xorshift32: a new mask per frame, as RFC 6455 §5.3 asks, without a cryptographic RNG per request.
        uint mask = connection.MaskState;
        mask ^= mask << 13;
        mask ^= mask >> 17;
        mask ^= mask << 5;
        connection.MaskState = mask;
        connection.SendLength += WebSocketFraming.WriteClientFrame(connection.Send.AsSpan(connection.SendLength), opcode, payload, mask);
    }

    /// <summary>Matches one answer to its request; true when it completed a request in flight (a slot is free again).</summary>
    private bool HandleAnswer(Connection connection, ReadOnlySpan<byte> message, long answeredAt)
    {
        Volatile.Write(ref connection.Received, connection.Received + 1);
        long id = 0;
        bool hasId = false, hasResult = false, hasError = false, hasMethod = false;
        int resultStart = 0, resultEnd = 0;
        try
        {
            var reader = new Utf8JsonReader(message);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return Mismatch(connection, message, "an answer that is not a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    hasId = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out id);
                }
                else if (reader.ValueTextEquals("result"u8))
                {
                    reader.Read();
                    resultStart = (int)reader.TokenStartIndex;
                    reader.Skip();
                    resultEnd = (int)reader.BytesConsumed;
                    hasResult = true;
                }
                else
                {
                    hasError |= reader.ValueTextEquals("error"u8);
                    hasMethod |= reader.ValueTextEquals("method"u8);
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return Mismatch(connection, message, "an answer that is not JSON");
        }

        if (hasMethod && !hasResult && !hasError)
        {
            // A notification pushed by the server, not an answer.
            return false;
        }

        if (!hasId || !connection.Outstanding.Remove(id, out long sentAt))
        {
            return Mismatch(connection, message, "an answer whose id matches no request in flight");
        }

        if (sentAt < _measureStart)
        {
            return true;
        }

        // Every answer is a round trip; each request ends in exactly one of Answered, Failed or (never answered) Lost.
        connection.Latency.RecordTicks(answeredAt - sentAt);
        if (hasResult && !hasError && IsExpected(message[resultStart..resultEnd]))
        {
            connection.Answered++;
        }
        else
        {
            Volatile.Write(ref connection.Failed, connection.Failed + 1);
            connection.Problem ??= $"wrong answer: {Shorten(message)}";
        }

        return true;
    }

    private bool IsExpected(ReadOnlySpan<byte> result)
    {
        if (_expectedResult is null || result.SequenceEqual(_expectedResult))
        {
            return true;
        }

        // Same value, other spelling (escapes, number format, spacing)? Rare, so this path may allocate.
        try
        {
            using JsonDocument actual = JsonDocument.Parse(result.ToArray());
            using JsonDocument expected = JsonDocument.Parse(_expectedResult);
            return JsonElement.DeepEquals(actual.RootElement, expected.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool Mismatch(Connection connection, ReadOnlySpan<byte> message, string what)
    {
        connection.Mismatched++;
        connection.Problem ??= $"{what}: {Shorten(message)}";
        return false;
    }

    private static string Shorten(ReadOnlySpan<byte> message) =>
        Encoding.UTF8.GetString(message[..Math.Min(message.Length, 200)]);

    /// <summary>The state of one connection; owned by its loop, read by others only for progress and at the end.</summary>
    private sealed class Connection
    {
        /// <summary>The socket the load generator frames WebSocket on itself; null for a <see cref="WebSocket"/> connection.</summary>
        public readonly Socket? Socket;

        /// <summary>The runtime's client (<c>bench --compression</c>); null for a self-framed <see cref="Socket"/>.</summary>
        public readonly ClientWebSocket? WebSocket;

        /// <summary>True when the server accepted permessage-deflate on this connection.</summary>
        public readonly bool Compressed;
        public readonly byte[] Request;
        public readonly int PrefixLength;
        public readonly Dictionary<long, long> Outstanding;
        public readonly LatencyHistogram Latency = new();
        public byte[] Receive = new byte[16 * 1024];
        public int ReceiveStart;
        public int ReceiveEnd;
        public byte[] Send;
        public int SendLength;
        public MemoryStream? Fragments;
        public uint MaskState;
        public long NextId;
        public long Received;
        public long Sent;

        /// <summary>Requests answered with the expected result (any result when none is known).</summary>
        public long Answered;

        /// <summary>Requests answered with an error, or with a result other than the expected one.</summary>
        public long Failed;

        /// <summary>Requests never answered; Sent = Answered + Failed + Lost once the loop has ended.</summary>
        public long Lost;
        public long Mismatched;
        public bool Dropped;
        public string? Problem;

        public Connection(Socket socket, byte[] requestPrefix, int pipeline, ReadOnlySpan<byte> alreadyReceived)
            : this(requestPrefix, pipeline)
        {
            Socket = socket;

            // Frames that arrived together with the upgrade answer.
            if (alreadyReceived.Length > Receive.Length)
            {
                Receive = new byte[alreadyReceived.Length * 2];
            }

            alreadyReceived.CopyTo(Receive);
            ReceiveEnd = alreadyReceived.Length;
        }

        public Connection(ClientWebSocket webSocket, bool compressed, byte[] requestPrefix, int pipeline)
            : this(requestPrefix, pipeline)
        {
            WebSocket = webSocket;
            Compressed = compressed;
        }

        private Connection(byte[] requestPrefix, int pipeline)
        {

            // Room for the longest id (19 digits) and the closing brace.
            Request = new byte[requestPrefix.Length + 21];
            requestPrefix.CopyTo(Request, 0);
            PrefixLength = requestPrefix.Length;

            // Sized for the pipeline depth once, so adding and removing ids never allocates.
            Outstanding = new Dictionary<long, long>(pipeline);
            Send = new byte[Math.Min(pipeline, 1024) * (Request.Length + WebSocketFraming.MaxClientHeader)];
            MaskState = (uint)Random.Shared.Next(1, int.MaxValue);
        }

        public void Dispose()
        {
            Socket?.Dispose();
            WebSocket?.Dispose();
        }
    }
}
