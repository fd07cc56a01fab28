using System.Threading.Channels;
using CameraRpc.Protocol;

namespace CameraRpc.Tests.Hardening.Methods;

/// <summary>
/// A method that blocks until the test lets it go, so that a test can hold calls "in flight" for as
/// long as it needs (the <c>--max-concurrency</c> test). Only that test uses it.
/// </summary>
internal static class HardeningGateMethods
{
    private static Channel<int> s_entered = Channel.CreateUnbounded<int>();
    private static SemaphoreSlim s_gate = new(0);

    /// <summary>Tags of the calls that entered the method, in order.</summary>
    public static ChannelReader<int> Entered => s_entered.Reader;

    /// <summary>Fresh gate and entry log for one test.</summary>
    public static void Reset()
    {
        s_entered = Channel.CreateUnbounded<int>();
        s_gate = new SemaphoreSlim(0);
    }

    /// <summary>Lets <paramref name="count"/> waiting calls finish.</summary>
    public static void Release(int count) => s_gate.Release(count);

    [RpcMethod("hardening.gate")]
    public static async Task<int> WaitAtGateAsync(int tag, CancellationToken cancellationToken)
    {
        s_entered.Writer.TryWrite(tag);
        await s_gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return tag;
    }
}

/// <summary>A method whose handler fails with an exception carrying text that must never reach a client.</summary>
internal static class HardeningCrashMethods
{
    public const string Secret = "SECRET-INTERNAL-DETAIL /var/lib/camera/key.pem";

    [RpcMethod("hardening.crash")]
    public static int Crash(string how) => how == "null"
        ? throw new NullReferenceException(Secret)
        : throw new InvalidOperationException(Secret, new IOException(Secret));
}
