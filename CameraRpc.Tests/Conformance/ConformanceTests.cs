using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Conformance;

/// <summary>
/// Runs every conformance script (Conformance/Scripts/*.rpc) against the engine in process. The same
/// scripts run against the live server over WebSocket and HTTP in EndToEnd/LiveConformanceTests.
/// </summary>
[Parallelizable(ParallelScope.All)]
public sealed class ConformanceTests
{
    public static IEnumerable<RpcScript> Scripts() => RpcScript.LoadAll();

    [TestCaseSource(nameof(Scripts))]
    public async Task script_answers_match_exactly_in_process(RpcScript script)
    {
        var rpc = new InProcessRpc();
        foreach (RpcScriptStep step in script.Steps)
        {
            string? answer = await rpc.CallAsync(step.Request);
            answer.Should().Be(step.Expected, $"{script.Name}.rpc line {step.Line}: {step.Request}");
        }
    }

    [Test]
    public void the_specification_examples_are_all_there()
    {
        RpcScript spec = RpcScript.LoadAll().Single(s => s.Name == "spec_examples");
        spec.Steps.Should().HaveCount(15, "section 7 of the specification has these examples, adapted to ping/echo");
    }
}
