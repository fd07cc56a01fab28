using System.Collections.Concurrent;
using CameraRpc.Protocol;

namespace CameraRpc.Tests.Hardening.Methods;

/// <summary>
/// A gate that many calls wait at, for tests that must hold calls executing for as long as they need
/// (<c>--max-concurrency</c>, clients that vanish with calls running). It counts the calls that
/// entered and whose <see cref="CancellationToken"/> fired, records the most calls that were inside at
/// once, and lets them all through when the test opens it. Nothing here waits on time.
/// </summary>
/// <remarks>Gates are keyed by a name unique to each test (the call's <c>key</c> parameter), so a call
/// left over from one test can never touch another test's gate.</remarks>
public sealed class HardeningGate
{
    private static readonly ConcurrentDictionary<string, HardeningGate> s_gates = new(StringComparer.Ordinal);

    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CountSignal _entered = new();
    private readonly CountSignal _cancelled = new();
    private int _inside;
    private int _maxInside;

    private HardeningGate()
    {
    }

    /// <summary>Calls that entered the method so far.</summary>
    public int Entered => _entered.Count;

    /// <summary>Calls whose token fired while they waited at the gate.</summary>
    public int Cancelled => _cancelled.Count;

    /// <summary>Calls executing inside the method now.</summary>
    public int Inside => Volatile.Read(ref _inside);

    /// <summary>The most calls that were executing inside the method at the same time.</summary>
    public int MaxInside => Volatile.Read(ref _maxInside);

    /// <summary>A new, closed gate under a unique key.</summary>
    public static (string Key, HardeningGate Gate) Create()
    {
        string key = Guid.NewGuid().ToString("N");
        var gate = new HardeningGate();
        s_gates[key] = gate;
        return (key, gate);
    }

    /// <summary>A <c>hardening.gate</c> call of this gate.</summary>
    public static string Call(string key, int tag, string id) =>
        $$"""{"jsonrpc":"2.0","method":"hardening.gate","params":{"key":"{{key}}","tag":{{tag}}},"id":{{id}}}""";

    /// <summary>Completes once at least <paramref name="count"/> calls have entered.</summary>
    public Task WhenEnteredAsync(int count, CancellationToken cancellationToken) => _entered.WhenAtLeastAsync(count, cancellationToken);

    /// <summary>Completes once at least <paramref name="count"/> calls have seen their token cancelled.</summary>
    public Task WhenCancelledAsync(int count, CancellationToken cancellationToken) => _cancelled.WhenAtLeastAsync(count, cancellationToken);

    /// <summary>Lets every call through, those waiting now and those still to come.</summary>
    public void Open() => _open.TrySetResult();

    internal static HardeningGate Find(string key) =>
        s_gates.TryGetValue(key, out HardeningGate? gate) ? gate : throw new RpcException(-32010, "No such gate: " + key);

    internal async Task<int> PassAsync(int tag, CancellationToken cancellationToken)
    {
        int inside = Interlocked.Increment(ref _inside);
        int seen = Volatile.Read(ref _maxInside);
        while (inside > seen)
        {
            int previous = Interlocked.CompareExchange(ref _maxInside, inside, seen);
            if (previous == seen)
            {
                break;
            }

            seen = previous;
        }

        _entered.Increment(); // after the maximum: whoever sees N entered sees a maximum that counts them
        bool cancelled = false;
        try
        {
            await _open.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return tag;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancelled = true;
            throw;
        }
        finally
        {
            // Out of the method before the call completes, so before the server can start another one.
            Interlocked.Decrement(ref _inside);
            if (cancelled)
            {
                _cancelled.Increment();
            }
        }
    }

    /// <summary>A counter whose waiters are woken when it reaches their number (no polling).</summary>
    private sealed class CountSignal
    {
        private readonly List<(int Target, TaskCompletionSource Reached)> _waiters = [];
        private int _count;

        public int Count
        {
            get
            {
                lock (_waiters)
                {
                    return _count;
                }
            }
        }

        public void Increment()
        {
            List<TaskCompletionSource> reached = [];
            lock (_waiters)
            {
                _count++;
                for (int i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Target <= _count)
                    {
                        reached.Add(_waiters[i].Reached);
                        _waiters.RemoveAt(i);
                    }
                }
            }

            foreach (TaskCompletionSource waiter in reached)
            {
                waiter.TrySetResult();
            }
        }

        public Task WhenAtLeastAsync(int target, CancellationToken cancellationToken)
        {
            lock (_waiters)
            {
                if (_count >= target)
                {
                    return Task.CompletedTask;
                }

                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((target, reached));
                return reached.Task.WaitAsync(cancellationToken);
            }
        }
    }
}

/// <summary>The <c>hardening.gate</c> method: waits at gate <c>key</c> until it opens (answers <c>tag</c>) or its token fires.</summary>
internal static class HardeningGateMethods
{
    [RpcMethod("hardening.gate")]
    public static Task<int> WaitAtGateAsync(string key, int tag, CancellationToken cancellationToken) =>
        HardeningGate.Find(key).PassAsync(tag, cancellationToken);
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
