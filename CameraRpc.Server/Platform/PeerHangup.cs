using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CameraRpc.Server.Platform;

/// <summary>Asks the kernel whether the other end of a TCP connection has hung up, without reading from it.</summary>
/// <remarks>
/// A connection under back-pressure is not being read, so its end (FIN or RST) would only be seen once
/// a call finished and reading resumed. <c>poll</c> with <c>POLLRDHUP</c> reports a FIN even while
/// unread data is still queued in front of it, which a read or <see cref="Socket.Available"/> cannot.
/// </remarks>
internal static class PeerHangup
{
    private const short PollErr = 0x0008, PollHup = 0x0010, PollRdHup = 0x2000; // <poll.h>, Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>True when the peer has closed or reset the connection; false when it has not, or where this cannot be asked.</summary>
    public static bool HasHungUp(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            var descriptor = new PollFd { Fd = (int)socket.SafeHandle.DangerousGetHandle(), Events = PollRdHup };
            return poll(ref descriptor, 1, 0) == 1 && (descriptor.Revents & (PollRdHup | PollHup | PollErr)) != 0;
        }
        catch (Exception exception) when (exception is ObjectDisposedException or DllNotFoundException or EntryPointNotFoundException)
        {
            return exception is ObjectDisposedException;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int poll(ref PollFd fds, nuint nfds, int timeout);
}
