namespace CameraRpc.Tests.Server.Security;

/// <summary>A clock that moves only when the test moves it (one tick is a microsecond).</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _now = 1_000_000;

    public override long TimestampFrequency => 1_000_000;

    public override long GetTimestamp() => Interlocked.Read(ref _now);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _now, (long)(by.TotalSeconds * TimestampFrequency));

    public void AdvanceTicks(long ticks) => Interlocked.Add(ref _now, ticks);
}
