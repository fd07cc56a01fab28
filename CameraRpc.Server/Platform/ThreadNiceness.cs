using System.Runtime.InteropServices;

namespace CameraRpc.Server.Platform;

/// <summary>Lowers the priority of the calling thread, for background work that must yield to calls.</summary>
internal static partial class ThreadNiceness
{
    private const int PrioProcess = 0; // <sys/resource.h>

    /// <summary>
    /// Raises the calling thread's nice value by <paramref name="increment"/> (lower priority). On Linux
    /// the nice value belongs to each thread, and <c>setpriority(PRIO_PROCESS, 0, …)</c> changes only
    /// the caller's; lowering one's own priority needs no privilege. Returns false where that is not
    /// possible (off Linux, or refused), and the thread simply keeps its priority.
    /// </summary>
    public static bool LowerCurrentThread(int increment)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            Marshal.SetLastPInvokeError(0);
            int current = getpriority(PrioProcess, 0);
            if (current == -1 && Marshal.GetLastPInvokeError() != 0)
            {
                return false;
            }

            return setpriority(PrioProcess, 0, Math.Min(current + increment, 19)) == 0;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpriority(int which, int who);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);
}
