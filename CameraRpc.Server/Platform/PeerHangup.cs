using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CameraRpc.Server.Platform;

/// <summary>Asks the kernel whether the other end of a TCP connection has hung up, without reading from it.</summary>
/// <remarks>
/// A connection under back-pressure is not being read, so its end (FIN or RST) would only be seen once
/// a call finished and reading resumed. <c>poll</c> with <c>POLLRDHUP</c> reports a FIN even while
/// unread data is still queued in front of it, which a read or <see cref="Socket.Available"/> cannot.
/// </remarks>
internal static partial class PeerHangup
{
    private const short PollErr = 0x0008, PollHup = 0x0010, PollNval = 0x0020, PollRdHup = 0x2000; // <poll.h>, Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>
    /// True when the peer has closed or reset the connection, or the socket is already closed on our
    /// side; false when it is open, or where this cannot be asked.
    /// </summary>
    public static bool HasHungUp(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        // The reference keeps the descriptor from being closed (and its number reused by another
        // connection) while poll looks at it.
        SafeSocketHandle handle = socket.SafeHandle;
        bool referenced = false;
        try
        {
            handle.DangerousAddRef(ref referenced);
            var descriptor = new PollFd { Fd = (int)handle.DangerousGetHandle(), Events = PollRdHup };
            return poll(ref descriptor, 1, 0) == 1 && (descriptor.Revents & (PollRdHup | PollHup | PollErr | PollNval)) != 0;
        }
        catch (ObjectDisposedException)
        {
            return true; // closed already: nobody is there any more
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        finally
        {
            if (referenced)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(ref PollFd fds, nuint nfds, int timeout);
}
