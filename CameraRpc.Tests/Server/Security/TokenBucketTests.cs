using CameraRpc.Server.Security;

namespace CameraRpc.Tests.Server.Security;

/// <summary>The token bucket of every rate limit: exact edges on a clock the test controls.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class TokenBucketTests
{
    [TestCase(1)]
    [TestCase(5)]
    [TestCase(1000)]
    public void the_nth_take_of_one_instant_passes_and_the_next_is_refused(int perSecond)
    {
        var clock = new ManualTimeProvider();
        var bucket = new TokenBucket(perSecond, clock);
        for (int i = 1; i <= perSecond; i++)
        {
            bucket.TryTake(1, out _).Should().BeTrue($"take {i} of a burst of {perSecond}");
        }

        bucket.TryTake(1, out long retryAfterMs).Should().BeFalse("the burst is spent and no time passed");
        retryAfterMs.Should().Be((1000 + perSecond - 1) / perSecond, "one token comes back after 1/N s, rounded up to whole ms");
    }

    [Test]
    public void tokens_come_back_at_the_rate_and_never_beyond_the_burst()
    {
        var clock = new ManualTimeProvider();
        var bucket = new TokenBucket(10, clock);
        for (int i = 0; i < 10; i++)
        {
            bucket.TryTake(1, out _);
        }

        clock.AdvanceTicks(99_999); // one microsecond short of one token (100 ms)
        bucket.TryTake(1, out long retry).Should().BeFalse();
        retry.Should().Be(1, "a microsecond is left, rounded up to 1 ms");
        clock.AdvanceTicks(1);
        bucket.TryTake(1, out _).Should().BeTrue("exactly one token came back");
        bucket.TryTake(1, out _).Should().BeFalse();

        clock.Advance(TimeSpan.FromHours(5));
        for (int i = 0; i < 10; i++)
        {
            bucket.TryTake(1, out _).Should().BeTrue();
        }

        bucket.TryTake(1, out _).Should().BeFalse("hours of idleness still hold only the burst");
    }

    [Test]
    public void a_cost_takes_that_many_tokens_and_the_retry_says_when_all_are_there()
    {
        var clock = new ManualTimeProvider();
        var bucket = new TokenBucket(10, clock);
        bucket.TryTake(5, out _).Should().BeTrue();
        bucket.TryTake(5, out _).Should().BeTrue();
        bucket.TryTake(5, out long retry).Should().BeFalse();
        retry.Should().Be(500, "five tokens at ten a second");
    }

    [Test]
    public void a_take_above_the_burst_passes_on_a_full_bucket_and_leaves_a_debt()
    {
        var clock = new ManualTimeProvider();
        var bucket = new TokenBucket(2, clock);
        bucket.TryTake(6, out _).Should().BeTrue("refusing it forever would help nobody");
        bucket.TryTake(1, out long retry).Should().BeFalse();
        retry.Should().Be(2500, "the debt of 4 plus one token, at two a second");
        clock.Advance(TimeSpan.FromSeconds(2.5));
        bucket.TryTake(1, out _).Should().BeTrue();
    }

    [Test]
    public void a_warm_take_allocates_nothing()
    {
        var bucket = new TokenBucket(1_000_000, TimeProvider.System);
        bucket.TryTake(1, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            bucket.TryTake(1, out _);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }
}
