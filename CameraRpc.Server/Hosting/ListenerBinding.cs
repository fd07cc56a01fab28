using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CameraRpc.Server.Platform;

namespace CameraRpc.Server.Hosting;

/// <summary>
/// Starts an <see cref="HttpListener"/> on a host and port, and tunes the socket it listens on.
/// </summary>
/// <remarks>
/// HttpListener's prefixes cannot say "port 0" and cannot say 0.0.0.0, so this class turns the
/// contract's host and port into what it understands: 0.0.0.0 becomes the wildcard host, and port 0
/// is resolved by asking the kernel for a free port first. A specific address is matched by
/// HttpListener against the request's Host header: clients must use that address (or, for 127.0.0.1,
/// localhost). It then finds the listening socket among the process's descriptors (/proc/self/fd) and
/// sets TCP_NODELAY and TCP keep-alive on it: Linux copies both to every accepted socket, and
/// HttpListener itself sets neither (without TCP_NODELAY, pipelined answers stall 40 ms and more on
/// delayed ACKs; without keep-alive, a peer that vanished without a FIN is never noticed).
/// </remarks>
internal static class ListenerBinding
{
    private const int FreePortAttempts = 5;

    /// <summary>Seconds of silence before the kernel's first keep-alive probe.</summary>
    internal const int KeepAliveIdleSeconds = 30;

    /// <summary>Seconds between probes; after <see cref="KeepAliveProbes"/> unanswered ones the socket is reset.</summary>
    internal const int KeepAliveIntervalSeconds = 10;

    internal const int KeepAliveProbes = 3;

    /// <summary>Starts <paramref name="listener"/>; returns the real port.</summary>
    /// <param name="binding">Told the port about to be bound (the chosen one when <paramref name="port"/> is 0), before the bind.</param>
    /// <exception cref="HttpListenerException">The address or port cannot be used (e.g. in use).</exception>
    public static int Start(HttpListener listener, string host, int port, Action<int> binding, out bool tuned)
    {
        string prefixHost = PrefixHost(host);
        for (int attempt = 1; ; attempt++)
        {
            int chosen = port != 0 ? port : FindFreePort(host);
            if (attempt == 1)
            {
                binding(chosen);
            }

            listener.Prefixes.Clear();
            listener.Prefixes.Add(string.Create(CultureInfo.InvariantCulture, $"http://{prefixHost}:{chosen}/"));

            // HttpListener matches requests to a specific-address prefix by their Host header, so a
            // server on 127.0.0.1 would answer 404 to clients that say "localhost". Accept that name too,
            // when it resolves to the same address (the prefix binds to what the name resolves to).
            if (host == "127.0.0.1" && LocalhostIsIPv4Loopback())
            {
                listener.Prefixes.Add(string.Create(CultureInfo.InvariantCulture, $"http://localhost:{chosen}/"));
            }
            try
            {
                listener.Start();
                tuned = TuneListeningSocket(chosen);
                return chosen;
            }
            catch (HttpListenerException) when (port == 0 && attempt < FreePortAttempts)
            {
                // Another process took the free port between our probe and the bind: try another.
            }
        }
    }

    /// <summary>The host as an HttpListener prefix understands it.</summary>
    internal static string PrefixHost(string host) => host switch
    {
        "0.0.0.0" or "*" or "+" => "*",
        _ when IPAddress.TryParse(host, out IPAddress? address) && address.AddressFamily == AddressFamily.InterNetworkV6 => "[" + address + "]",
        _ => host,
    };

    private static bool LocalhostIsIPv4Loopback()
    {
        try
        {
            IPAddress[] addresses = Dns.GetHostAddresses("localhost");
            return addresses.Length > 0 && addresses[0].Equals(IPAddress.Loopback);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FindFreePort(string host)
    {
        IPAddress address = host is "0.0.0.0" or "*" or "+" || !IPAddress.TryParse(host, out IPAddress? parsed) ? IPAddress.Any : parsed;
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Sets TCP_NODELAY and keep-alive on this process's listening socket for <paramref name="port"/>.</summary>
    /// <returns>False when the socket could not be found (e.g. /proc is not mounted); the server still works.</returns>
    private static bool TuneListeningSocket(int port)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            // Only this process's own descriptors are looked at (a handful at startup). The kernel's
            // socket tables in /proc/net are not: on a busy host they hold every TIME_WAIT connection,
            // and a restart would read megabytes of them.
            bool any = false;
            foreach (string fdPath in Directory.EnumerateFiles("/proc/self/fd"))
            {
                if (new FileInfo(fdPath).LinkTarget is not { } target || !target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    continue;
                }

                int fd = int.Parse(Path.GetFileName(fdPath), CultureInfo.InvariantCulture);

                // A Socket over the descriptor, not owning it: disposing it leaves the fd open.
                using var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: false));
                if (!IsListeningOn(socket, port))
                {
                    continue;
                }

                socket.NoDelay = true;
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, KeepAliveIdleSeconds);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, KeepAliveIntervalSeconds);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, KeepAliveProbes);
                any = true;
            }

            return any;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or SocketException or FormatException)
        {
            return false;
        }
    }

    private static bool IsListeningOn(Socket socket, int port)
    {
        try
        {
            return socket.ProtocolType == ProtocolType.Tcp
                && socket.LocalEndPoint is IPEndPoint local && local.Port == port
                && socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is int listening && listening != 0;
        }
        catch (SocketException)
        {
            return false; // not a socket these questions make sense for
        }
    }
}
