using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using CameraRpc.Server.Logging;

namespace CameraRpc.Server.Configuration;

/// <summary>
/// One <c>serve</c> option: its three spellings (flag, environment variable, config key), the text
/// shown for its default and in <c>--help</c>, and how a value is checked and applied.
/// </summary>
internal sealed class OptionDefinition
{
    private readonly Func<ServerOptions, string, ServerOptions?> _apply;

    public OptionDefinition(
        string flag,
        string envVar,
        string configKey,
        string valueName,
        string defaultText,
        string help,
        string expected,
        Func<ServerOptions, string, ServerOptions?> apply)
    {
        Flag = flag;
        EnvVar = envVar;
        ConfigKey = configKey;
        ValueName = valueName;
        DefaultText = defaultText;
        Help = help;
        Expected = expected;
        _apply = apply;
    }

    /// <summary>The command-line spelling, e.g. <c>--max-connections</c>.</summary>
    public string Flag { get; }

    /// <summary>The environment variable, e.g. <c>CAMERARPC_MAX_CONNECTIONS</c>.</summary>
    public string EnvVar { get; }

    /// <summary>The key in the <c>--config</c> JSON file, e.g. <c>maxConnections</c>.</summary>
    public string ConfigKey { get; }

    /// <summary>The placeholder of the value in <c>--help</c>, e.g. <c>N</c>.</summary>
    public string ValueName { get; }

    /// <summary>The default as a user would type it (and as the README states it).</summary>
    public string DefaultText { get; }

    /// <summary>One line saying what the option does.</summary>
    public string Help { get; }

    /// <summary>What a valid value looks like; ends the error message for a bad one.</summary>
    public string Expected { get; }

    /// <summary>True when the value is a list (comma-separated, or a JSON array in the config file).</summary>
    public bool IsList { get; init; }

    /// <summary>Checks <paramref name="value"/> and returns <paramref name="options"/> with it applied.</summary>
    /// <returns>False when the value is not valid for this option; <paramref name="result"/> is then null.</returns>
    public bool TryApply(ServerOptions options, string value, [NotNullWhen(true)] out ServerOptions? result)
    {
        result = _apply(options, value);
        return result is not null;
    }

    /// <inheritdoc />
    public override string ToString() => Flag;
}

/// <summary>
/// THE table of <c>serve</c> options. The loader, <c>--help</c> and the README check all read it,
/// so an option added here is parsed, documented and checked everywhere at once.
/// </summary>
internal static class OptionDefinitions
{
    /// <summary>The flag naming the JSON config file; not an option itself, so not in <see cref="All"/>.</summary>
    public const string ConfigFlag = "--config";

    /// <summary>The environment variable naming the JSON config file.</summary>
    public const string ConfigEnvVar = "CAMERARPC_CONFIG";

    /// <summary>The value that turns an optional setting (log file, auth token, origins) off.</summary>
    public const string NoneValue = Tools.Cli.CommandArguments.NoneValue;

    // CancellationTokenSource.CancelAfter and timers take at most int.MaxValue milliseconds; a longer
    // timeout would throw deep inside the server instead of failing at startup with a clear line.
    private const int MaxTimeoutSeconds = int.MaxValue / 1000;

    /// <summary>The largest <c>--max-message-bytes</c>: 1 GiB.</summary>
    private const int MaxMessageBytesLimit = 1 << 30;

    /// <summary>Every option, in the order of contract §1.</summary>
    public static IReadOnlyList<OptionDefinition> All { get; } =
    [
        new("--host", "CAMERARPC_HOST", "host", "HOST", "0.0.0.0",
            "address to listen on (0.0.0.0 all IPv4, :: all, 127.0.0.1 loopback only)",
            "a non-empty host name or address",
            static (o, v) => IsNonEmpty(v) ? o with { Host = v.Trim() } : null),

        new("--port", "CAMERARPC_PORT", "port", "PORT", "8002",
            "TCP port; 0 picks a free one",
            "an integer 0-65535",
            static (o, v) => TryParseInt(v, 0, 65535, out int n) ? o with { Port = n } : null),

        new("--path", "CAMERARPC_PATH", "path", "PATH", "/ws",
            "the JSON-RPC endpoint path",
            "a path starting with '/', without spaces, '?' or '#'",
            static (o, v) => IsValidPath(v) ? o with { Path = v } : null),

        new("--log-file", "CAMERARPC_LOG_FILE", "logFile", "FILE", "logs/server.log",
            "log file, its folder created if missing; 'none' turns file logging off",
            "a file path or 'none'",
            static (o, v) => !IsNonEmpty(v) ? null : o with { LogFile = IsNone(v) ? null : v }),

        new("--log-level", "CAMERARPC_LOG_LEVEL", "logLevel", "LEVEL", "info",
            "least severe level logged: debug, info, warning, error",
            "debug, info, warning or error",
            static (o, v) => TryParseLevel(v, out LogLevel level) ? o with { LogLevel = level } : null),

        new("--max-message-bytes", "CAMERARPC_MAX_MESSAGE_BYTES", "maxMessageBytes", "N", "1048576",
            "largest inbound message (WebSocket message or HTTP body)",
            "an integer from 1 to 1073741824 (1 GiB)",
            // Capped so that a message buffer of the limit plus one byte, doubled on the way, stays a valid array.
            static (o, v) => TryParseInt(v, 1, MaxMessageBytesLimit, out int n) ? o with { MaxMessageBytes = n } : null),

        new("--max-batch", "CAMERARPC_MAX_BATCH", "maxBatch", "N", "1000",
            "most calls in one batch",
            "an integer >= 1",
            static (o, v) => TryParseInt(v, 1, int.MaxValue, out int n) ? o with { MaxBatch = n } : null),

        new("--max-connections", "CAMERARPC_MAX_CONNECTIONS", "maxConnections", "N", "10000",
            "most WebSocket connections at once; further upgrades get 503",
            "an integer >= 1",
            static (o, v) => TryParseInt(v, 1, int.MaxValue, out int n) ? o with { MaxConnections = n } : null),

        new("--max-concurrency", "CAMERARPC_MAX_CONCURRENCY", "maxConcurrency", "N", "64",
            "most calls of one connection executing at once; further messages wait",
            "an integer >= 1",
            static (o, v) => TryParseInt(v, 1, int.MaxValue, out int n) ? o with { MaxConcurrency = n } : null),

        new("--auth-token", "CAMERARPC_AUTH_TOKEN", "authToken", "TOKEN", NoneValue,
            "require 'Authorization: Bearer TOKEN' (or ?access_token=TOKEN) on upgrades and HTTP calls",
            "a non-empty token or 'none'",
            static (o, v) => !IsNonEmpty(v) ? null : o with { AuthToken = IsNone(v) ? null : v }),

        new("--allowed-origins", "CAMERARPC_ALLOWED_ORIGINS", "allowedOrigins", "ORIGINS", NoneValue,
            "comma-separated Origin values allowed to upgrade from a browser, or * for any",
            "a comma-separated list of origins, '*' or 'none'",
            static (o, v) => TryParseOrigins(v, out IReadOnlyList<string>? origins) ? o with { AllowedOrigins = origins } : null)
        {
            IsList = true,
        },

        new("--idle-timeout", "CAMERARPC_IDLE_TIMEOUT", "idleTimeout", "SECONDS", "0",
            "close a connection with 1001 after this many seconds without a message; 0 never",
            $"a number of seconds 0-{MaxTimeoutSeconds}",
            static (o, v) => TryParseSeconds(v, out TimeSpan t) ? o with { IdleTimeout = t } : null),

        new("--shutdown-timeout", "CAMERARPC_SHUTDOWN_TIMEOUT", "shutdownTimeout", "SECONDS", "10",
            "seconds shutdown waits for calls in flight",
            $"a number of seconds 0-{MaxTimeoutSeconds}",
            static (o, v) => TryParseSeconds(v, out TimeSpan t) ? o with { ShutdownTimeout = t } : null),

        new("--max-subscriptions", "CAMERARPC_MAX_SUBSCRIPTIONS", "maxSubscriptions", "N", "100",
            "most subscriptions one connection may hold at once; 0 allows none",
            "an integer >= 0",
            static (o, v) => TryParseInt(v, 0, int.MaxValue, out int n) ? o with { MaxSubscriptions = n } : null),

        new("--compression", "CAMERARPC_COMPRESSION", "compression", "on|off", "on",
            "accept permessage-deflate when a client offers it ('off': never)",
            "'on' or 'off'",
            static (o, v) => TryParseSwitch(v, out bool on) ? o with { Compression = on } : null),

        new("--tokens-file", "CAMERARPC_TOKENS_FILE", "tokensFile", "FILE", NoneValue,
            "JSON file of named tokens (SHA-256) with scopes; re-read on SIGHUP",
            "a file path or 'none'",
            static (o, v) => !IsNonEmpty(v) ? null : o with { TokensFile = IsNone(v) ? null : v.Trim() }),

        new("--rate-limit", "CAMERARPC_RATE_LIMIT", "rateLimit", "N", "0",
            "calls per second allowed to one connection (burst the same); 0 is no limit",
            "an integer >= 0",
            static (o, v) => TryParseInt(v, 0, int.MaxValue, out int n) ? o with { RateLimit = n } : null),

        new("--rate-limit-per-address", "CAMERARPC_RATE_LIMIT_PER_ADDRESS", "rateLimitPerAddress", "N", "0",
            "calls per second allowed to one client address, its connections and HTTP requests together; 0 is no limit",
            "an integer >= 0",
            static (o, v) => TryParseInt(v, 0, int.MaxValue, out int n) ? o with { RateLimitPerAddress = n } : null),

        new("--connect-rate-limit", "CAMERARPC_CONNECT_RATE_LIMIT", "connectRateLimit", "N", "0",
            "WebSocket upgrades per second allowed to one client address, over it 429; 0 is no limit",
            "an integer >= 0",
            static (o, v) => TryParseInt(v, 0, int.MaxValue, out int n) ? o with { ConnectRateLimit = n } : null),

        new("--trusted-proxies", "CAMERARPC_TRUSTED_PROXIES", "trustedProxies", "ADDRESSES", NoneValue,
            "comma-separated proxy addresses or CIDR ranges whose X-Forwarded-For / X-Real-IP name the real client",
            "a comma-separated list of IP addresses or CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8) or 'none'",
            static (o, v) => TryParseNetworks(v, out IReadOnlyList<IPNetwork>? networks) ? o with { TrustedProxies = networks } : null)
        {
            IsList = true,
        },

        new("--console", "CAMERARPC_CONSOLE", "console", "on|off", "on",
            "serve the browser console at GET / ('off' answers 404 there)",
            "'on' or 'off'",
            static (o, v) => TryParseSwitch(v, out bool on) ? o with { Console = on } : null),

        new("--bench-topics", "CAMERARPC_BENCH_TOPICS", "benchTopics", "on|off", "off",
            "serve bench.events and bench.publish for 'bench --subscribers' (benchmarks only)",
            "'on' or 'off'",
            static (o, v) => TryParseSwitch(v, out bool on) ? o with { BenchTopics = on } : null),
    ];

    /// <summary>Finds an option by its flag (<c>--port</c>), ordinal.</summary>
    public static OptionDefinition? FindByFlag(ReadOnlySpan<char> flag)
    {
        foreach (OptionDefinition definition in All)
        {
            if (flag.SequenceEqual(definition.Flag))
            {
                return definition;
            }
        }

        return null;
    }

    /// <summary>Finds an option by its config-file key (<c>maxConnections</c>), ordinal.</summary>
    public static OptionDefinition? FindByConfigKey(string key)
    {
        foreach (OptionDefinition definition in All)
        {
            if (string.Equals(key, definition.ConfigKey, StringComparison.Ordinal))
            {
                return definition;
            }
        }

        return null;
    }

    private static bool IsNonEmpty(string value) => !string.IsNullOrWhiteSpace(value);

    private static bool IsNone(string value) => string.Equals(value.Trim(), NoneValue, StringComparison.OrdinalIgnoreCase);

    private static bool TryParseInt(string value, int min, int max, out int result) =>
        int.TryParse(value.AsSpan().Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result)
        && result >= min && result <= max;

    private static bool TryParseSeconds(string value, out TimeSpan result)
    {
        // Fractions are allowed ("0.5") because a config file may well hold a JSON number like that.
        if (double.TryParse(value.AsSpan().Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds)
            && double.IsFinite(seconds) && seconds >= 0 && seconds <= MaxTimeoutSeconds)
        {
            result = TimeSpan.FromSeconds(seconds);
            return true;
        }

        result = default;
        return false;
    }

    private static bool IsValidPath(string value)
    {
        if (value.Length == 0 || value[0] != '/')
        {
            return false;
        }

        foreach (char c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '?' or '#')
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseLevel(string value, out LogLevel level)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "debug": level = LogLevel.Debug; return true;
            case "info": level = LogLevel.Info; return true;
            case "warning": level = LogLevel.Warning; return true;
            case "error": level = LogLevel.Error; return true;
            default: level = default; return false;
        }
    }

    private static bool TryParseSwitch(string value, out bool on)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "on": on = true; return true;
            case "off": on = false; return true;
            default: on = false; return false;
        }
    }

    private static bool TryParseNetworks(string value, [NotNullWhen(true)] out IReadOnlyList<IPNetwork>? networks)
    {
        if (IsNone(value))
        {
            networks = [];
            return true;
        }

        var list = new List<IPNetwork>();
        foreach (string part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            IPNetwork network;
            if (part.Contains('/'))
            {
                // A range whose address has bits set past the prefix ("10.0.0.1/8") is refused: an
                // operator typo that would otherwise trust a whole network nobody meant to trust.
                if (!IPNetwork.TryParse(part, out network) || !network.BaseAddress.Equals(IPAddress.Parse(part.AsSpan(0, part.IndexOf('/')))))
                {
                    networks = null;
                    return false;
                }
            }
            else if (IPAddress.TryParse(part, out IPAddress? address))
            {
                address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
                network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            }
            else
            {
                networks = null;
                return false;
            }

            if (!list.Contains(network))
            {
                list.Add(network);
            }
        }

        if (list.Count == 0)
        {
            networks = null;
            return false;
        }

        networks = list.AsReadOnly();
        return true;
    }

    private static bool TryParseOrigins(string value, [NotNullWhen(true)] out IReadOnlyList<string>? origins)
    {
        if (IsNone(value))
        {
            origins = [];
            return true;
        }

        var list = new List<string>();
        foreach (string part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // Browsers send Origin without a trailing slash; tolerate the slash people copy from the address bar.
            string origin = part.TrimEnd('/');
            if (origin.Length == 0 || origin.Any(char.IsWhiteSpace))
            {
                origins = null;
                return false;
            }

            if (!list.Contains(origin, StringComparer.OrdinalIgnoreCase))
            {
                list.Add(origin);
            }
        }

        if (list.Count == 0)
        {
            origins = null;
            return false;
        }

        origins = list.AsReadOnly();
        return true;
    }
}
