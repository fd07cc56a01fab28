using CameraRpc.Server.Hosting;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Server;

/// <summary>When the server gives the memory of a burst back: only in a quiet second, and only when there is something to give.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class MemoryHousekeepingTests
{
    private const long Burst = MemoryHousekeeping.AllocationThreshold;

    [Test]
    public void after_a_burst_the_first_quiet_second_collects_and_only_once()
    {
        var housekeeping = new MemoryHousekeeping((0, 0, 0), allocated: 0);

        housekeeping.ShouldCollect((5_000, 1_000, 1_000), Burst).Should().BeFalse("connections were still arriving during that second");
        housekeeping.ShouldCollect((5_000, 1_000, 1_000), Burst).Should().BeTrue("nothing happened for a whole second after the burst");
        housekeeping.Collected(Burst);
        housekeeping.ShouldCollect((5_000, 1_000, 1_000), Burst + 1_000).Should().BeFalse("the burst's garbage is already collected");
    }

    [Test]
    public void a_steady_load_is_never_paused_however_much_was_allocated()
    {
        var housekeeping = new MemoryHousekeeping((0, 0, 0), allocated: 0);

        for (int second = 1; second <= 100; second++)
        {
            housekeeping.ShouldCollect((second * 1_000_000L, 100, 100), second * Burst).Should().BeFalse($"messages arrived during second {second}");
        }
    }

    [Test]
    public void connections_closing_count_as_activity()
    {
        var housekeeping = new MemoryHousekeeping((0, 1_000, 1_000), allocated: 0);

        housekeeping.ShouldCollect((0, 1_000, 400), Burst).Should().BeFalse("600 connections closed during that second");
        housekeeping.ShouldCollect((0, 1_000, 400), Burst).Should().BeTrue();
    }

    [Test]
    public void a_quiet_server_with_little_garbage_is_left_alone()
    {
        var housekeeping = new MemoryHousekeeping((0, 0, 0), allocated: 0);

        for (int second = 1; second <= 100; second++)
        {
            housekeeping.ShouldCollect((0, 0, 0), Burst - 1).Should().BeFalse("a collection's pause is not worth less than the threshold");
        }
    }
}
