using CameraRpc.Protocol;

namespace CameraRpc.Tests.Protocol;

/// <summary>
/// The per-connection call registry behind <c>$/cancelRequest</c>: a call that completes synchronously is
/// never registered (no lock, its source reused at once); a registered one is found by id, and a
/// cancelled one is never reused.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class RpcCallRegistryTests
{
    private static ReadOnlySpan<byte> Id7 => "7"u8;

    [Test]
    public void a_call_that_was_never_registered_cannot_be_cancelled_and_its_source_is_reused()
    {
        var registry = new RpcCallRegistry();
        RpcCall call = registry.Rent(CancellationToken.None);

        registry.Cancel(Id7).Should().BeFalse("a call that completes synchronously is never findable: no later message can name it while it runs");
        RpcCallRegistry.End(call);

        registry.Rent(CancellationToken.None).Should().BeSameAs(call, "the spare source is handed out again, uncancelled");
        call.Token.IsCancellationRequested.Should().BeFalse();
    }

    [Test]
    public void a_registered_call_is_cancelled_by_its_id_and_then_never_reused()
    {
        var registry = new RpcCallRegistry();
        RpcCall call = registry.Rent(CancellationToken.None);
        registry.Register(call, Id7, CancellationToken.None);

        registry.Cancel(Id7).Should().BeTrue();
        call.CancelledByClient.Should().BeTrue();
        call.Token.IsCancellationRequested.Should().BeTrue();
        RpcCallRegistry.End(call);

        registry.Cancel(Id7).Should().BeFalse("an ended call is no longer found");
        RpcCall next = registry.Rent(CancellationToken.None);
        next.Should().NotBeSameAs(call, "a cancelled call is never reused (its cancel may still be under way)");
        next.Token.IsCancellationRequested.Should().BeFalse();
    }

    [Test]
    public void a_call_registered_or_rented_once_the_connection_is_cancelled_is_cancelled_too()
    {
        using var connection = new CancellationTokenSource();
        var registry = new RpcCallRegistry();
        RpcCall running = registry.Begin(Id7, connection.Token);

        connection.Cancel();
        running.Token.IsCancellationRequested.Should().BeTrue("a disconnect cancels the registered calls");
        registry.Rent(connection.Token).Token.IsCancellationRequested.Should().BeTrue("and every call that starts after it");
    }
}
