using System.Text;
using System.Text.RegularExpressions;
using CameraRpc.Server.Logging;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Server;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class LogLineFormatterTests
{
    private static readonly DateTime s_time = new(2026, 3, 4, 5, 6, 7, 89);

    [Test]
    public void a_line_has_the_python_logging_layout()
    {
        string line = LogLineFormatter.Format(s_time, LogLevel.Info, "Client connected: 127.0.0.1:54321 (Total clients: 1)");

        line.Should().Be("2026-03-04 05:06:07,089 - CameraRpc.Server - INFO - Client connected: 127.0.0.1:54321 (Total clients: 1)");
        line.Should().MatchRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - CameraRpc\.Server - (DEBUG|INFO|WARNING|ERROR) - .*$");
    }

    [TestCase(0, "DEBUG")]
    [TestCase(1, "INFO")]
    [TestCase(2, "WARNING")]
    [TestCase(3, "ERROR")]
    public void each_level_has_its_upper_case_name(int level, string name)
    {
        LogLineFormatter.Format(s_time, (LogLevel)level, "m").Should().Be($"2026-03-04 05:06:07,089 - CameraRpc.Server - {name} - m");
    }

    [Test]
    public void the_timestamp_is_zero_padded_and_shows_milliseconds()
    {
        string line = LogLineFormatter.Format(new DateTime(987, 12, 31, 23, 59, 59, 999), LogLevel.Info, string.Empty);

        line.Should().Be("0987-12-31 23:59:59,999 - CameraRpc.Server - INFO - ");
    }

    [TestCase("a\nb", @"a\nb")]
    [TestCase("a\r\nb", @"a\r\nb")]
    [TestCase("tab\there", @"tab\u0009here")]
    [TestCase("esc\u001b[31m", @"esc\u001b[31m")]
    [TestCase("nul\0", @"nul\u0000")]
    [TestCase("del\u007f", @"del\u007f")]
    [TestCase("nel\u0085", @"nel\u0085")]
    [TestCase("ls\u2028ps\u2029", @"ls\u2028ps\u2029")]
    [TestCase("plain ünïcödé 📷 \\n stays", "plain ünïcödé 📷 \\n stays")]
    public void control_characters_are_escaped_so_a_message_stays_one_line(string message, string expected)
    {
        string line = LogLineFormatter.Format(s_time, LogLevel.Info, message);

        line.Should().EndWith(" - INFO - " + expected);
        line.Should().NotContainAny(["\n", "\r", "\u2028", "\u0085"], "a client must not be able to start a new log line");
    }

    [Test]
    public void a_message_of_only_control_characters_fits_the_advertised_maximum_length()
    {
        string message = new('\u0001', 100);
        var buffer = new char[LogLineFormatter.GetMaxLength(message.Length)];

        int length = LogLineFormatter.Format(buffer, s_time, LogLevel.Warning, message);

        length.Should().Be(buffer.Length, "every character took its longest escape and the level its longest name");
    }

    [Test]
    public void a_short_body_is_rendered_whole()
    {
        byte[] body = """{"jsonrpc":"2.0","method":"ping","id":1}"""u8.ToArray();

        LogLineFormatter.RenderBody(body).Should().Be("""{"jsonrpc":"2.0","method":"ping","id":1}""");
    }

    [Test]
    public void a_body_of_exactly_1024_bytes_is_not_cut()
    {
        byte[] body = Encoding.UTF8.GetBytes(new string('x', 1024));

        LogLineFormatter.RenderBody(body).Should().Be(new string('x', 1024));
    }

    [Test]
    public void a_longer_body_is_cut_at_1024_bytes_with_a_marker_giving_the_full_size()
    {
        byte[] body = Encoding.UTF8.GetBytes(new string('x', 5000));

        string rendered = LogLineFormatter.RenderBody(body);

        rendered.Should().Be(new string('x', 1024) + " …[truncated, 5000 bytes total]");
    }

    [TestCase(1023, "é", 1023)]
    [TestCase(1023, "€", 1023)]
    [TestCase(1022, "€", 1022)]
    [TestCase(1021, "📷", 1021)]
    [TestCase(1022, "📷", 1022)]
    [TestCase(1020, "📷", 1024)]
    public void the_cut_never_splits_a_utf8_sequence(int asciiBefore, string character, int expectedCut)
    {
        byte[] body = Encoding.UTF8.GetBytes(new string('a', asciiBefore) + character + new string('z', 100));

        int cut = LogLineFormatter.GetBodyCut(body);
        string rendered = LogLineFormatter.RenderBody(body);

        cut.Should().Be(expectedCut);
        rendered.Should().NotContain("\uFFFD", "a split sequence would decode to a replacement character");
        rendered.Should().EndWith($" …[truncated, {body.Length} bytes total]");
        Encoding.UTF8.GetByteCount(rendered[..rendered.IndexOf(" …[", StringComparison.Ordinal)]).Should().Be(expectedCut);
    }

    [Test]
    public void a_body_message_joins_its_parts_into_one_string()
    {
        string message = LogLineFormatter.ComposeBodyMessage("Received from ", "127.0.0.1:54321", ": ", """{"id":1}"""u8);

        message.Should().Be("""Received from 127.0.0.1:54321: {"id":1}""");
    }

    [Test]
    public void a_logged_body_with_an_embedded_newline_stays_on_one_line()
    {
        string message = LogLineFormatter.ComposeBodyMessage("Received from ", "peer", ": ", "{\"method\":\"x\"}\n2026-01-01 00:00:00,000 - CameraRpc.Server - ERROR - forged"u8);

        string line = LogLineFormatter.Format(s_time, LogLevel.Info, message);

        Regex.Matches(line, " - CameraRpc.Server - ").Should().HaveCount(2, "the forged prefix stays inside the message");
        line.Should().NotContain("\n").And.Contain(@"}\n2026-01-01");
    }
}
