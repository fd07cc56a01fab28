using System.Text.Json;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Tools;

public sealed partial class ToolProcessTests
{
    [Test, CancelAfter(60_000)]
    public async Task watch_prints_two_server_stats_events_and_exits_0(CancellationToken cancellationToken)
    {
        CommandProcess.Outcome run = await CommandProcess.RunAsync(cancellationToken, "watch", "server.stats", "--count", "2", "--url", ServerUrl("ws"));

        run.ExitCode.Should().Be(0, $"--count reached: {run}");
        run.StdoutLines.Should().HaveCount(2, "one JSON line per event");
        for (int i = 0; i < 2; i++)
        {
            using JsonDocument line = JsonDocument.Parse(run.StdoutLines[i]);
            line.RootElement.GetProperty("seq").GetInt64().Should().Be(i + 1, "event 1 is the current values, event 2 the next tick");
            line.RootElement.GetProperty("result").GetProperty("connections").GetInt64().Should().BeGreaterThanOrEqualTo(1, "watch itself is connected");
        }
    }
}
