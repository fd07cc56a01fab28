namespace CameraRpc.Server.Tools.Client;

/// <summary>Every figure of one load run. Request counts cover only requests sent during the measurement.</summary>
internal sealed class LoadResult
{
    public required LoadOptions Options { get; init; }

    /// <summary>Connections whose upgrade succeeded.</summary>
    public required int ConnectionsOpened { get; init; }

    /// <summary>Connections that could not be opened (refused, timed out, upgrade rejected).</summary>
    public required int ConnectionsFailed { get; init; }

    /// <summary>Open connections that ended before the run did (closed by the server or broken).</summary>
    public required int ConnectionsDropped { get; init; }

    /// <summary>Connections on which the server accepted permessage-deflate (only <c>--compression</c> offers it).</summary>
    public int ConnectionsCompressed { get; init; }

    /// <summary>Wall time of the whole connect phase.</summary>
    public required TimeSpan ConnectPhase { get; init; }

    /// <summary>Time of each successful connect (TCP + HTTP upgrade), µs.</summary>
    public required LatencyHistogram ConnectLatency { get; init; }

    /// <summary>Requests sent during the measurement: <c>Sent = Answered + Failed + Lost</c>.</summary>
    public required long Sent { get; init; }

    /// <summary>Requests answered with a result: the expected one for <c>ping</c> and <c>echo</c>, any result for other methods.</summary>
    public required long Answered { get; init; }

    /// <summary>Requests answered with an error (or with a result other than the expected one).</summary>
    public required long Failed { get; init; }

    /// <summary>Requests never answered: in flight when the grace period ended or when their connection dropped.</summary>
    public required long Lost { get; init; }

    /// <summary>Answers whose id matched no request in flight on that connection (or that could not be read).</summary>
    public required long Mismatched { get; init; }

    /// <summary>The measured time.</summary>
    public required TimeSpan Measured { get; init; }

    /// <summary>Round-trip time of every answer, a result or an error (<see cref="Answered"/> + <see cref="Failed"/>), µs.</summary>
    public required LatencyHistogram Latency { get; init; }

    /// <summary>The server process whose CPU time was read, if found.</summary>
    public int? ServerPid { get; init; }

    /// <summary>CPU seconds (user + system) the server used during the measurement, if known.</summary>
    public double? ServerCpuSeconds { get; init; }

    /// <summary>CPU seconds this process used during the measurement.</summary>
    public required double BenchCpuSeconds { get; init; }

    /// <summary>The first thing that went wrong with a request, for the report.</summary>
    public string? FirstProblem { get; init; }

    /// <summary>The first reason a connect failed, for the report.</summary>
    public string? FirstConnectError { get; init; }

    /// <summary>Round trips completed per second of measured time: answers with a result or an error, as the latency counts them.</summary>
    public double RequestsPerSecond => Measured > TimeSpan.Zero ? (Answered + Failed) / Measured.TotalSeconds : 0;

    /// <summary>Round trips completed per CPU second of the server, when its CPU time is known.</summary>
    public double? RequestsPerServerCoreSecond =>
        ServerCpuSeconds is double cpu && cpu > 0 ? (Answered + Failed) / cpu : null;

    /// <summary>True when every connection opened and stayed open and every request got its correct answer.</summary>
    public bool IsClean =>
        ConnectionsFailed == 0 && ConnectionsDropped == 0 && Failed == 0 && Lost == 0 && Mismatched == 0 && ConnectionsOpened > 0;
}
