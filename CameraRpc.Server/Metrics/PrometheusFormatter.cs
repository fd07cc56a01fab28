using System.Globalization;
using System.Text;

namespace CameraRpc.Server.Metrics;

/// <summary>
/// Writes <see cref="ServerMetrics"/> in the Prometheus text exposition format, version 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/).
/// </summary>
/// <remarks>Runs once per scrape, so it favours clarity over allocation. Thread-safe.</remarks>
internal static class PrometheusFormatter
{
    /// <summary>The <c>Content-Type</c> of a <c>/metrics</c> answer.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The exposition text; every line ends with <c>\n</c>, as the format requires.</summary>
    public static string Format(ServerMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var text = new StringBuilder(2048);

        Header(text, "camerarpc_connections", "gauge", "WebSocket connections open now.");
        Sample(text, "camerarpc_connections", metrics.Connections);

        Header(text, "camerarpc_connections_total", "counter", "WebSocket connections accepted since start.");
        Sample(text, "camerarpc_connections_total", metrics.ConnectionsTotal);

        Header(text, "camerarpc_calls_total", "counter", "JSON-RPC calls answered or run, by method and outcome.");
        foreach ((string method, long success, long error) in metrics.GetCallCounts())
        {
            CallSample(text, method, "success", success);
            CallSample(text, method, "error", error);
        }

        Header(text, "camerarpc_call_duration_seconds", "histogram", "Time from a call's dispatch to its answer, in seconds.");
        (long[] buckets, double sumSeconds) = metrics.GetDurationHistogram();
        long cumulative = 0;
        for (int i = 0; i < buckets.Length; i++)
        {
            cumulative += buckets[i];
            string bound = i < ServerMetrics.DurationBucketBounds.Count
                ? FormatDouble(ServerMetrics.DurationBucketBounds[i])
                : "+Inf";
            text.Append("camerarpc_call_duration_seconds_bucket{le=\"").Append(bound).Append("\"} ").Append(Integer(cumulative)).Append('\n');
        }

        text.Append("camerarpc_call_duration_seconds_sum ").Append(FormatDouble(sumSeconds)).Append('\n');
        text.Append("camerarpc_call_duration_seconds_count ").Append(Integer(cumulative)).Append('\n');

        Header(text, "camerarpc_received_bytes_total", "counter", "Bytes of inbound messages.");
        Sample(text, "camerarpc_received_bytes_total", metrics.ReceivedBytes);

        Header(text, "camerarpc_sent_bytes_total", "counter", "Bytes of outbound messages.");
        Sample(text, "camerarpc_sent_bytes_total", metrics.SentBytes);

        Header(text, "camerarpc_rate_limited_total", "counter", "Calls, HTTP requests and upgrades refused by a rate limit, by limit.");
        foreach (Security.RateLimit limit in (ReadOnlySpan<Security.RateLimit>)[Security.RateLimit.Connection, Security.RateLimit.Address, Security.RateLimit.Connect])
        {
            text.Append("camerarpc_rate_limited_total{limit=\"").Append(Security.RateLimitCounters.Label(limit)).Append("\"} ").Append(Integer(metrics.RateLimited[limit])).Append('\n');
        }

        Header(text, "camerarpc_errors_total", "counter", "JSON-RPC error answers, by error code.");
        foreach ((int code, long count) in metrics.GetErrorCounts())
        {
            text.Append("camerarpc_errors_total{code=\"").Append(Integer(code)).Append("\"} ").Append(Integer(count)).Append('\n');
        }

        Header(text, "camerarpc_log_lines_dropped_total", "counter", "Log lines dropped because the log queue was full.");
        Sample(text, "camerarpc_log_lines_dropped_total", metrics.LogLinesDropped);

        metrics.Subscriptions.AppendTo(text);
        return text.ToString();
    }

    /// <summary>
    /// A label value escaped as the format requires: backslash, double quote and line feed become
    /// <c>\\</c>, <c>\"</c> and <c>\n</c>.
    /// </summary>
    public static string EscapeLabelValue(string value)
    {
        if (value.AsSpan().IndexOfAny('\\', '"', '\n') < 0)
        {
            return value;
        }

        var escaped = new StringBuilder(value.Length + 8);
        foreach (char c in value)
        {
            _ = c switch
            {
                '\\' => escaped.Append(@"\\"),
                '"' => escaped.Append("\\\""),
                '\n' => escaped.Append(@"\n"),
                _ => escaped.Append(c),
            };
        }

        return escaped.ToString();
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder text, string name, long value) =>
        text.Append(name).Append(' ').Append(Integer(value)).Append('\n');

    private static void CallSample(StringBuilder text, string method, string outcome, long value) =>
        text.Append("camerarpc_calls_total{method=\"").Append(EscapeLabelValue(method))
            .Append("\",outcome=\"").Append(outcome).Append("\"} ").Append(Integer(value)).Append('\n');

    private static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    // Shortest text that round-trips, so 0.00025 prints as 0.00025 and 1 as 1.
    private static string FormatDouble(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
