using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

using CameraRpc.Server.Tools.WebSockets;

namespace CameraRpc.Server.Tools.Client;

/// <summary>
/// Opens a WebSocket over a plain socket for the tools that frame WebSocket themselves (<c>bench</c>'s
/// load and its fan-out subscribers, see <see cref="WebSocketFraming"/>): resolve, TCP connect and upgrade.
/// </summary>
internal static class SelfFramedConnect
{
    /// <summary>
    /// Runs <paramref name="connectOne"/> for 0 to <paramref name="count"/> − 1 with at most
    /// <paramref name="maxPending"/> at once (HttpListener's accept backlog is 500: opening 10,000 at once would
    /// overflow it), on the thread pool; <paramref name="started"/>, if given, is told how many have started.
    /// </summary>
    public static async Task RampAsync(int count, int maxPending, Func<int, Task> connectOne, Func<int, Task>? started, CancellationToken cancellationToken)
    {
        using var pending = new SemaphoreSlim(maxPending);
        var connects = new List<Task>(count);
        for (int i = 0; i < count; i++)
        {
            await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
            int index = i;
            connects.Add(Task.Run(async () =>
            {
                try
                {
                    await connectOne(index).ConfigureAwait(false);
                }
                finally
                {
                    pending.Release();
                }
            }, cancellationToken));

            if (started is not null)
            {
                await started(i + 1).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(connects).ConfigureAwait(false);
    }

    /// <summary>The server's address for a <c>ws://</c> URL (IPv4 first), or null when the name does not resolve.</summary>
    public static async Task<IPEndPoint?> ResolveAsync(Uri url, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(url.DnsSafeHost, out IPAddress? literal))
        {
            return new IPEndPoint(literal, url.Port);
        }

        try
        {
            IPAddress[] addresses = await Dns.GetHostAddressesAsync(url.DnsSafeHost, cancellationToken).ConfigureAwait(false);

            // IPv4 first: a server on 0.0.0.0 (the default) is not reachable over ::1.
            IPAddress? address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            return address is null ? null : new IPEndPoint(address, url.Port);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>
    /// TCP connect and WebSocket upgrade, timed together. On success the socket is open and
    /// <c>AlreadyReceived</c> holds the frames that came with the upgrade answer; on failure the socket
    /// is closed and <c>Error</c> says why, as "cannot connect to URL: REASON".
    /// </summary>
    /// <param name="receiveBufferSize">The socket's kernel receive buffer (SO_RCVBUF), or 0 for the system's default.</param>
    public static async Task<(Socket? Socket, byte[] AlreadyReceived, long Ticks, string? Error)> ConnectAsync(
        IPEndPoint endpoint, Uri url, string? authToken, TimeSpan connectTimeout, int receiveBufferSize, CancellationToken cancellationToken)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize > 0)
        {
            // Before connecting, so the TCP window offered in the handshake is already the small one.
            socket.ReceiveBufferSize = receiveBufferSize;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connectTimeout);
        long started = Stopwatch.GetTimestamp();
        try
        {
            await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
            byte[] upgrade = WebSocketFraming.BuildUpgradeRequest(url, authToken, out string key);
            await socket.SendAsync(upgrade, SocketFlags.None, timeout.Token).ConfigureAwait(false);

            // Read up to the end of the answer's head; whatever follows it is already WebSocket frames.
            byte[] head = new byte[4096];
            int length = 0;
            int end;
            while ((end = head.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (length == head.Length)
                {
                    throw new InvalidDataException("the server's upgrade answer is over 4 KiB");
                }

                int received = await socket.ReceiveAsync(head.AsMemory(length), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (received == 0)
                {
                    throw new InvalidDataException("the server closed the connection during the upgrade");
                }

                length += received;
            }

            if (WebSocketFraming.CheckUpgradeResponse(head.AsSpan(0, end), key) is string refusal)
            {
                throw new InvalidDataException(
                    WebSocketFraming.StatusCode(head.AsSpan(0, end)) == 401 ? BearerToken.UnauthorizedReason(tokenSent: authToken is not null) : refusal);
            }

            long ticks = Stopwatch.GetTimestamp() - started;
            return (socket, head.AsSpan(end + 4, length - end - 4).ToArray(), ticks, null);
        }
        catch (Exception exception) when (exception is SocketException or IOException or InvalidDataException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            socket.Dispose();
            string reason = exception is OperationCanceledException
                ? $"no upgrade within {connectTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s"
                : RpcConnectionException.Describe(exception);
            return (null, [], 0, $"cannot connect to {url}: {reason}");
        }
    }
}
