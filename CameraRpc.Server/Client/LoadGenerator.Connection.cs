using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace CameraRpc.Server.Client;

internal sealed partial class LoadGenerator
{
    /// <summary>
    /// One connection's loop: send D requests, then one new request per answer until the
    /// measurement ends, then wait for the answers still in flight and close.
    /// </summary>
    /// <remarks>
    /// Sending and receiving share one loop, so a connection's state has a single owner and needs
    /// no synchronisation; on loopback a send completes synchronously almost always.
    /// </remarks>
    private async Task RunConnectionAsync(Connection connection)
    {
        // Let the caller start every loop first instead of running this one up to its first real wait.
        await Task.Yield();
        ClientWebSocket socket = connection.Socket;
        CancellationToken abort = _abort.Token;
        try
        {
            for (int i = 0; i < _options.Pipeline; i++)
            {
                long now = Stopwatch.GetTimestamp();
                if (now >= _measureEnd)
                {
                    break;
                }

                await SendNextAsync(connection, now, abort).ConfigureAwait(false);
            }

            while (connection.Outstanding.Count > 0)
            {
                int length = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    if (length == connection.Buffer.Length)
                    {
                        Array.Resize(ref connection.Buffer, connection.Buffer.Length * 2);
                    }

                    received = await socket.ReceiveAsync(connection.Buffer.AsMemory(length), abort).ConfigureAwait(false);
                    length += received.Count;
                }
                while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);

                if (received.MessageType == WebSocketMessageType.Close)
                {
                    connection.Dropped = true;
                    connection.Problem ??= $"the server closed a connection with {connection.Outstanding.Count} requests in flight (close {(int?)socket.CloseStatus} {socket.CloseStatusDescription})";
                    break;
                }

                long answeredAt = Stopwatch.GetTimestamp();
                if (HandleAnswer(connection, connection.Buffer.AsSpan(0, length), answeredAt) && answeredAt < _measureEnd)
                {
                    await SendNextAsync(connection, Stopwatch.GetTimestamp(), abort).ConfigureAwait(false);
                }
            }

            if (socket.State == WebSocketState.Open)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, abort).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The grace period ran out (or the run was cancelled): what is still in flight is lost, counted below.
        }
        catch (Exception exception) when (exception is WebSocketException or IOException)
        {
            if (connection.Outstanding.Count > 0 || Stopwatch.GetTimestamp() < _measureEnd)
            {
                connection.Dropped = true;
                connection.Problem ??= $"a connection broke: {RpcConnectionException.Describe(exception)}";
            }
        }
        finally
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
    }

    private ValueTask SendNextAsync(Connection connection, long now, CancellationToken abort)
    {
        long id = ++connection.NextId;
        byte[] request = connection.Request;
        int prefixLength = connection.PrefixLength;
        id.TryFormat(request.AsSpan(prefixLength), out int digits, default, System.Globalization.CultureInfo.InvariantCulture);
        request[prefixLength + digits] = (byte)'}';
        connection.Outstanding.Add(id, now);
        if (now >= _measureStart)
        {
            connection.Sent++;
        }

        return connection.Socket.SendAsync(request.AsMemory(0, prefixLength + digits + 1), WebSocketMessageType.Text, endOfMessage: true, abort);
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

        connection.Answered++;
        connection.Latency.RecordTicks(answeredAt - sentAt);
        if (hasError || !hasResult || !IsExpected(message[resultStart..resultEnd]))
        {
            connection.Failed++;
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
        public readonly ClientWebSocket Socket;
        public readonly byte[] Request;
        public readonly int PrefixLength;
        public readonly Dictionary<long, long> Outstanding;
        public readonly LatencyHistogram Latency = new();
        public byte[] Buffer = new byte[4096];
        public long NextId;
        public long Received;
        public long Sent;
        public long Answered;
        public long Failed;
        public long Lost;
        public long Mismatched;
        public bool Dropped;
        public string? Problem;

        public Connection(ClientWebSocket socket, byte[] requestPrefix, int pipeline)
        {
            Socket = socket;

            // Room for the longest id (19 digits) and the closing brace.
            Request = new byte[requestPrefix.Length + 21];
            requestPrefix.CopyTo(Request, 0);
            PrefixLength = requestPrefix.Length;

            // Sized for the pipeline depth once, so adding and removing ids never allocates.
            Outstanding = new Dictionary<long, long>(pipeline);
        }
    }
}
