using System.Net;
using CameraRpc.Server.Security;

namespace CameraRpc.Tests.Server.Security;

/// <summary>The per-address buckets: shared by an address's connections, bounded under a flood, idle ones forgotten.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class AddressRateTableTests
{
    private static IPAddress Address(int i) => new(new byte[] { 198, 18, (byte)(i >> 8), (byte)i });

    [Test]
    public void all_connections_and_requests_of_an_address_share_one_bucket()
    {
        var clock = new ManualTimeProvider();
        var table = new AddressRateTable(3, 0, clock);
        AddressEntry first = table.Acquire(IPAddress.Parse("203.0.113.7"));
        AddressEntry second = table.Acquire(IPAddress.Parse("::ffff:203.0.113.7"));
        second.Should().BeSameAs(first, "the IPv4-mapped form is the same client");

        first.TryTakeCalls(1, out _).Should().BeTrue();
        second.TryTakeCalls(1, out _).Should().BeTrue();
        table.TryTakeCalls(IPAddress.Parse("203.0.113.7"), 1, out _).Should().BeTrue("the third call of the address");
        table.TryTakeCalls(IPAddress.Parse("203.0.113.7"), 1, out long retry).Should().BeFalse("the fourth");
        retry.Should().Be(334);
        table.TryTakeCalls(IPAddress.Parse("203.0.113.8"), 1, out _).Should().BeTrue("another address has its own bucket");
    }

    [Test]
    public void upgrades_have_their_own_bucket()
    {
        var clock = new ManualTimeProvider();
        var table = new AddressRateTable(0, 2, clock);
        IPAddress address = IPAddress.Parse("203.0.113.7");
        table.TryConnect(address, out _).Should().BeTrue();
        table.TryConnect(address, out _).Should().BeTrue();
        table.TryConnect(address, out long retry).Should().BeFalse();
        retry.Should().Be(500);
        table.TryTakeCalls(address, 100, out _).Should().BeTrue("calls per address are not limited here");
    }

    [Test]
    public void idle_addresses_are_forgotten_after_the_sweep_interval()
    {
        var clock = new ManualTimeProvider();
        var table = new AddressRateTable(5, 0, clock);
        for (int i = 0; i < 100; i++)
        {
            table.TryTakeCalls(Address(i), 1, out _);
        }

        table.Count.Should().Be(100);
        AddressEntry held = table.Acquire(Address(1000));
        clock.Advance(AddressRateTable.SweepInterval);
        table.TryTakeCalls(Address(5000), 1, out _);
        table.Count.Should().Be(2, "the idle ones went; the one a live connection holds and the new one stay");
        table.Release(held);
    }

    [Test]
    [NonParallelizable] // measures the heap
    public void a_flood_of_distinct_addresses_stays_within_the_capacity_and_its_stated_bytes()
    {
        var clock = new ManualTimeProvider();
        const int Capacity = 4096;
        var table = new AddressRateTable(5, 5, clock, Capacity);
        int peak = 0;

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < 50_000; i++)
        {
            clock.AdvanceTicks(1); // all busy: none idle, the least recently used go
            table.TryTakeCalls(new IPAddress(new byte[] { 10, (byte)(i >> 16), (byte)(i >> 8), (byte)i }), 1, out _);
            peak = Math.Max(peak, table.Count);
        }

        peak.Should().BeLessThanOrEqualTo(Capacity);
        GC.Collect();
        long after = GC.GetTotalMemory(forceFullCollection: true);
        ((after - before) / (double)Capacity).Should().BeLessThan(AddressRateTable.ApproximateEntryBytes,
            "the README states the table's bound as capacity x this many bytes");
        table.TryTakeCalls(Address(1), 1, out _).Should().BeTrue("a newcomer still gets in");
        GC.KeepAlive(table);
    }

    [Test]
    public void the_most_recently_used_addresses_survive_a_flood()
    {
        var clock = new ManualTimeProvider();
        var table = new AddressRateTable(2, 0, clock, capacity: 16);
        IPAddress regular = IPAddress.Parse("203.0.113.7");
        table.TryTakeCalls(regular, 1, out _);
        for (int i = 0; i < 100; i++)
        {
            clock.AdvanceTicks(1);
            table.TryTakeCalls(regular, 0, out _); // still active
            clock.AdvanceTicks(1);
            table.TryTakeCalls(Address(i), 1, out _);
            table.Count.Should().BeLessThanOrEqualTo(16);
        }

        table.TryTakeCalls(regular, 1, out _).Should().BeFalse("its bucket was kept: the flood did not reset its limit");
    }
}
