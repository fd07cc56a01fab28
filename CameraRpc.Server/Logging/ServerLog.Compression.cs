namespace CameraRpc.Server.Logging;

/// <summary>The log events of permessage-deflate: what each connection agreed, and the one fallback warning.</summary>
internal sealed partial class ServerLog
{
    /// <summary>At debug: the <c>Sec-WebSocket-Extensions</c> answer a connection got, or why it got none.</summary>
    public void CompressionAgreed(string endpoint, string? agreed, string? offered)
    {
        if (IsEnabled(LogLevel.Debug))
        {
            Write(LogLevel.Debug, agreed is not null
                ? $"Compression for {endpoint}: {agreed}"
                : $"Compression for {endpoint}: none (offered: {Cut(offered)})");
        }
    }

    // The offer is the client's text: a long one is cut, as logged message bodies are.
    private static string Cut(string? offered) => offered switch
    {
        null or "" => "nothing",
        { Length: <= MaxOfferChars } => offered,
        _ => string.Concat(offered.AsSpan(0, MaxOfferChars), "…"),
    };

    private const int MaxOfferChars = 200;

    /// <summary>Once per process: the upgrade fell back to HttpListener's own WebSocket, which cannot compress.</summary>
    public void CompressionUnavailableOnFallback() =>
        Log(LogLevel.Warning, "permessage-deflate is not available over HttpListener's own WebSocket (the upgrade's fallback path): connections go uncompressed");
}
