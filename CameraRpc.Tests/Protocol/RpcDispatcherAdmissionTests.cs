using System.Text;
using CameraRpc.Protocol;
using CameraRpc.Server.Security;
using CameraRpc.Tests.Generator.TestMethods;
using CameraRpc.Tests.Server.Security;

namespace CameraRpc.Tests.Protocol;

/// <summary>
/// The dispatcher's access step (contract section 8): a method's scope (-32001) and the rate limits
/// (-32005), asked of the context's <see cref="IRpcCallAdmission"/> before a call runs.
/// </summary>
[Parallelizable(ParallelScope.All)]
public sealed class RpcDispatcherAdmissionTests
{
    private static readonly RpcMethodTable s_methods = RpcMethodTable.Combine(
        BuiltInRpcMethods.Table, // $/cancelRequest included
        new RpcMethodTable(GeneratedRpcMethods.Table.Methods.Where(m => m.Name.StartsWith("access.", StringComparison.Ordinal))));

    private static readonly TokenIdentity s_viewer = new("wall-display", TokenSet.Hash("v"), ["camera.read"]);

    private static async Task<string?> CallAsync(IRpcCallAdmission? admission, string message)
    {
        var dispatcher = new RpcDispatcher(s_methods);
        var context = new RpcContext(dispatcher, 1, null, null) { Admission = admission };
        RpcResponseBuffer output = RpcResponseBuffer.Rent();
        try
        {
            return await dispatcher.DispatchAsync(Encoding.UTF8.GetBytes(message), output, context) ? Encoding.UTF8.GetString(output.WrittenSpan) : null;
        }
        finally
        {
            RpcResponseBuffer.Return(output);
        }
    }

    [Test]
    public void the_generator_gives_methods_their_declared_scope_and_cost()
    {
        RpcMethod set = s_methods.Methods.Single(m => m.Name == "access.setExposure");
        set.Scope.Should().Be("camera.write");
        set.Cost.Should().Be(5);
        RpcMethod open = s_methods.Methods.Single(m => m.Name == "access.open");
        open.Scope.Should().BeNull("no scope declared: open to every valid token");
        open.Cost.Should().Be(1, "the default cost");
        Encoding.UTF8.GetString(set.OpenRpcDescriptor.Span).Should().EndWith(",\"x-scope\":\"camera.write\"}", "rpc.discover shows the scope");
        Encoding.UTF8.GetString(open.OpenRpcDescriptor.Span).Should().NotContain("x-scope");
    }

    [Test]
    public async Task a_token_without_the_scope_gets_forbidden_naming_the_scope()
    {
        var admission = new CallAdmission(s_viewer, checksScopes: true, null, null, null);
        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"access.setExposure","params":[2],"id":7}"""))
            .Should().Be("""{"jsonrpc":"2.0","error":{"code":-32001,"message":"Forbidden","data":{"scope":"camera.write"}},"id":7}""");
        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"access.getExposure","id":8}"""))
            .Should().Be("""{"jsonrpc":"2.0","result":1.5,"id":8}""", "the viewer holds camera.read");
        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"access.open","id":9}"""))
            .Should().Be("""{"jsonrpc":"2.0","result":"open","id":9}""", "a method without a scope is open to every valid token");
        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"access.setExposure","params":[2]}""")).Should().BeNull("a notification is never answered, not even when refused");
    }

    [Test]
    public async Task without_token_options_no_scope_is_checked()
    {
        var admission = new CallAdmission(null, checksScopes: false, new TokenBucket(100, new ManualTimeProvider()), null, null);
        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"access.setExposure","params":[2],"id":1}"""))
            .Should().Be("""{"jsonrpc":"2.0","result":2,"id":1}""");
    }

    [Test]
    public async Task in_a_batch_a_forbidden_call_does_not_fail_the_others()
    {
        var admission = new CallAdmission(s_viewer, checksScopes: true, null, null, null);
        (await CallAsync(admission, """[{"jsonrpc":"2.0","method":"access.getExposure","id":1},{"jsonrpc":"2.0","method":"access.setExposure","params":[2],"id":2},{"jsonrpc":"2.0","method":"ping","id":3}]"""))
            .Should().Be("""[{"jsonrpc":"2.0","result":1.5,"id":1},{"jsonrpc":"2.0","error":{"code":-32001,"message":"Forbidden","data":{"scope":"camera.write"}},"id":2},{"jsonrpc":"2.0","result":"pong","id":3}]""");
    }

    [Test]
    public async Task the_nth_call_of_an_instant_passes_and_the_next_gets_rate_limit_exceeded()
    {
        var counters = new RateLimitCounters();
        var admission = new CallAdmission(null, false, new TokenBucket(3, new ManualTimeProvider()), null, counters);
        for (int i = 1; i <= 3; i++)
        {
            (await CallAsync(admission, $$"""{"jsonrpc":"2.0","method":"ping","id":{{i}}}""")).Should().Contain("pong", $"call {i} of 3");
        }

        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"ping","id":4}"""))
            .Should().Be("""{"jsonrpc":"2.0","error":{"code":-32005,"message":"Rate limit exceeded","data":{"retryAfterMs":334}},"id":4}""");
        counters[RateLimit.Connection].Should().Be(1);
    }

    [Test]
    public async Task a_batch_counts_as_its_calls_times_their_cost_and_a_cancel_never_counts()
    {
        var clock = new ManualTimeProvider();
        var admission = new CallAdmission(null, false, new TokenBucket(7, clock), null, null);
        string answer = (await CallAsync(admission, """[{"jsonrpc":"2.0","method":"access.setExposure","params":[1],"id":1},{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}},{"jsonrpc":"2.0","method":"ping","id":2},{"jsonrpc":"2.0","method":"ping","id":3},{"jsonrpc":"2.0","method":"ping","id":4}]"""))!;
        answer.Should().Be("""[{"jsonrpc":"2.0","result":1,"id":1},{"jsonrpc":"2.0","result":"pong","id":2},{"jsonrpc":"2.0","result":"pong","id":3},{"jsonrpc":"2.0","error":{"code":-32005,"message":"Rate limit exceeded","data":{"retryAfterMs":143}},"id":4}]""",
            "5 + 1 + 1 of a burst of 7; the cancel is free, the fourth ping is over");
        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}""")).Should().BeNull();
        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"no.such.method","id":5}""")).Should().Contain("-32005", "an unknown method still counts as a call");
    }

    [TestCase("""$\/cancelRequest""", TestName = "a_cancel_never_counts_with_an_escaped_slash_either")]
    [TestCase("""$\u002fcancelRequest""", TestName = "a_cancel_never_counts_with_a_unicode_escape_either")]
    public async Task a_cancel_never_counts_however_its_name_is_spelled(string method)
    {
        var clock = new ManualTimeProvider();
        var admission = new CallAdmission(null, false, new TokenBucket(2, clock), null, null);
        string cancel = """{"jsonrpc":"2.0","method":""" + "\"" + method + "\"" + ""","params":{"id":1}}""";

        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"ping","id":1}""")).Should().Contain("pong");
        for (int i = 0; i < 3; i++)
        {
            (await CallAsync(admission, cancel)).Should().BeNull("the same method as $/cancelRequest: a notification, never refused");
        }

        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"ping","id":2}""")).Should().Contain("pong", "the cancels took nothing of the burst of 2");
        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"ping","id":3}""")).Should().Contain("-32005");

        var dispatcher = new RpcDispatcher(s_methods);
        dispatcher.MeasureCost(Encoding.UTF8.GetBytes("""[{"jsonrpc":"2.0","method":"ping","id":1},""" + cancel + "," + cancel + "]")).Should().Be(1, "an HTTP batch counts only its ping");
    }

    [Test]
    public async Task a_reload_applies_new_scopes_from_the_next_call()
    {
        var admission = new CallAdmission(s_viewer, checksScopes: true, null, null, null);
        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"access.setExposure","params":[2],"id":1}""")).Should().Contain("-32001");
        admission.Rebind(new TokenSet([new TokenIdentity("wall-display", s_viewer.Sha256Hash, ["camera.read", "camera.write"])])).Should().BeTrue();
        (await CallAsync(admission, """{"jsonrpc":"2.0","method":"access.setExposure","params":[2],"id":2}""")).Should().Be("""{"jsonrpc":"2.0","result":2,"id":2}""");
        admission.Rebind(TokenSet.Empty).Should().BeFalse("the token is gone: the connection is to be closed");
    }
}
