using System.Diagnostics;
using System.Globalization;

namespace CameraRpc.Server.Tools.Client;

internal sealed partial class LoadGenerator
{
    /// <summary>
    /// The wait before the clock is looked at again, <paramref name="remainingTicks"/> (Stopwatch ticks)
    /// before the end of a phase: a second at most, and never less than a whole millisecond.
    /// </summary>
    /// <remarks>
    /// Task.Delay counts whole milliseconds and truncates: the last fraction of a millisecond of a phase
    /// would be a zero wait, and the loop would spin (writing a progress line per turn) until it passed.
    /// </remarks>
    internal static TimeSpan ProgressWait(long remainingTicks)
    {
        long ticks = Math.Clamp(remainingTicks, 0, Stopwatch.Frequency);
        return TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency)));
    }

    /// <summary>
    /// True when a progress line is due at <paramref name="now"/>: the phase is not over and the last line
    /// (or the start of the phase) is at least half a second old. The timer may wake a little before the
    /// end of a phase (its clock is coarser than the Stopwatch); the short waits that make up the
    /// difference write nothing.
    /// </summary>
    internal static bool IsProgressLineDue(long now, long lastLine, long until) =>
        now < until && now - lastLine >= Stopwatch.Frequency / 2;

    /// <summary>Waits for the end of a phase (Stopwatch time <paramref name="until"/>), writing the progress line when there is a terminal.</summary>
    private async Task ShowProgressUntilAsync(Connection[] connections, long until, string phase, CancellationToken cancellationToken)
    {
        long lastReceived = TotalReceived(connections);
        long lastTime = Stopwatch.GetTimestamp();
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            if (now >= until)
            {
                return;
            }

            await Task.Delay(ProgressWait(until - now), cancellationToken).ConfigureAwait(false);
            long time = Stopwatch.GetTimestamp();
            if (_options.Progress is not TextWriter progress || !IsProgressLineDue(time, lastTime, until))
            {
                continue;
            }

            // Racy reads of other loops' counters are fine for a progress line.
            long received = TotalReceived(connections);
            double rate = (received - lastReceived) / ((double)(time - lastTime) / Stopwatch.Frequency);
            double remaining = Math.Max(0, (double)(until - time) / Stopwatch.Frequency);
            long failed = 0;
            int dropped = 0;
            foreach (Connection connection in connections)
            {
                failed += Volatile.Read(ref connection.Failed);
                dropped += Volatile.Read(ref connection.Dropped) ? 1 : 0;
            }

            await progress.WriteAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"\r  {phase,-9} {remaining,5:0.0} s left  {rate,10:N0} req/s  answers {received,12:N0}  failed {failed:N0}  dropped {dropped:N0}   ")).ConfigureAwait(false);
            await progress.FlushAsync(cancellationToken).ConfigureAwait(false);
            lastReceived = received;
            lastTime = time;
        }
    }

    private static long TotalReceived(Connection[] connections)
    {
        long total = 0;
        foreach (Connection connection in connections)
        {
            total += Volatile.Read(ref connection.Received);
        }

        return total;
    }
}
