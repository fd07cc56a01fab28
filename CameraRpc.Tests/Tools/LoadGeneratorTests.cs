using System.Diagnostics;
using System.Text.RegularExpressions;
using CameraRpc.Server.Tools.Client;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Tools;

/// <summary>The load generator in process against a real server: its progress line and its counts.</summary>
[TestFixture]
[NonParallelizable]
public sealed class LoadGeneratorTests
{
    private static readonly long s_second = Stopwatch.Frequency;

    [TestCase(0.0003, 1, TestName = "the_last_fraction_of_a_millisecond_of_a_phase_is_waited_for_as_a_whole_millisecond")]
    [TestCase(0.99998, 1000, TestName = "a_wait_just_under_a_second_is_rounded_up_not_down")]
    [TestCase(0.25, 250, TestName = "a_wait_of_whole_milliseconds_stays_as_it_is")]
    [TestCase(7.5, 1000, TestName = "the_clock_is_looked_at_every_second_in_a_long_phase")]
    [TestCase(0, 1, TestName = "a_phase_that_has_just_ended_still_gets_a_non_zero_wait")]
    public void the_progress_wait_is_never_shorter_than_what_task_delay_can_wait(double remainingSeconds, long expectedMilliseconds)
    {
        TimeSpan wait = LoadGenerator.ProgressWait((long)(remainingSeconds * s_second));

        // Task.Delay waits (long)TotalMilliseconds: a wait under 1 ms is no wait, and the progress loop spun on it.
        ((long)wait.TotalMilliseconds).Should().Be(expectedMilliseconds);
    }

    [Test]
    public void a_progress_line_is_due_every_half_second_or_more_and_never_once_the_phase_is_over()
    {
        long start = 1000 * s_second;
        long until = start + (2 * s_second);

        LoadGenerator.IsProgressLineDue(start + s_second, start, until).Should().BeTrue("a second after the last line");
        LoadGenerator.IsProgressLineDue(start + (s_second / 2), start, until).Should().BeTrue("half a second after it");
        LoadGenerator.IsProgressLineDue(start + (s_second / 4), start, until).Should().BeFalse("a timer that woke early does not earn a line of its own");
        LoadGenerator.IsProgressLineDue(until, start, until).Should().BeFalse("the phase is over");
        LoadGenerator.IsProgressLineDue(until + 1, start + s_second, until).Should().BeFalse("the phase is over");
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task the_progress_line_is_written_at_most_twice_a_second_and_not_in_a_spin_at_the_end_of_a_phase(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        var progress = new StringWriter();
        var options = new LoadOptions(server.WebSocketUri, 2, 2, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), "ping", null, null) { Progress = progress };

        LoadResult result = await new LoadGenerator(options).RunAsync(cancellationToken);

        // The end of a phase used to be waited for in zero-length delays (Task.Delay truncates to whole
        // milliseconds), each turn writing a line: dozens of them in the last millisecond of every phase.
        int lines = Regex.Count(progress.ToString(), @" s left ");
        lines.Should().BeLessThanOrEqualTo(4, $"3 s of warm-up and measurement allow a line per half second at most: {progress}");
        progress.ToString().Should().Contain("measuring", "the 2 s measurement shows its progress once a second");
        result.IsClean.Should().BeTrue();
        (result.Answered + result.Failed + result.Lost).Should().Be(result.Sent);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task with_no_connection_open_the_run_ends_without_warming_up_or_measuring(CancellationToken cancellationToken)
    {
        using UnacceptingListener nothing = await UnacceptingListener.StartAsync(cancellationToken);
        var options = new LoadOptions(new Uri($"ws://127.0.0.1:{nothing.Port}/ws"), 3, 1, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1), "ping", null, null)
        {
            ConnectTimeout = TimeSpan.FromSeconds(1),
        };

        // The test's 30 s limit fails it if the run sits through its two minutes.
        LoadResult result = await new LoadGenerator(options).RunAsync(cancellationToken);

        result.ConnectionsOpened.Should().Be(0);
        result.ConnectionsFailed.Should().Be(3);
        result.Measured.Should().Be(TimeSpan.Zero, "nothing was measured");
        result.Sent.Should().Be(0);
        result.FirstConnectError.Should().Be($"cannot connect to {options.Url}: no upgrade within 1 s");
        result.IsClean.Should().BeFalse();
    }
}
