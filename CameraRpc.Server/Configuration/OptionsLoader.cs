using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using CameraRpc.Server.Tools.Cli;

namespace CameraRpc.Server.Configuration;

/// <summary>What <see cref="OptionsLoader.Load"/> produced: the options, or the one line saying why not.</summary>
internal sealed class OptionsResult
{
    private OptionsResult(ServerOptions? options, string? error, string? configFile)
    {
        Options = options;
        Error = error;
        ConfigFile = configFile;
    }

    /// <summary>The options; null when loading failed.</summary>
    public ServerOptions? Options { get; }

    /// <summary>The error, naming the option and the bad value; null on success.</summary>
    public string? Error { get; }

    /// <summary>The config file that was read, if any (worth a startup log line).</summary>
    public string? ConfigFile { get; }

    [MemberNotNullWhen(true, nameof(Options))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Succeeded => Options is not null;

    public static OptionsResult Success(ServerOptions options, string? configFile) => new(options, null, configFile);

    public static OptionsResult Failure(string error) => new(null, error, null);
}

/// <summary>
/// Builds <see cref="ServerOptions"/> from the command line, <c>CAMERARPC_*</c> environment variables
/// and a <c>--config</c> JSON file, in that order of precedence, over the defaults.
/// </summary>
/// <remarks>
/// Every source is checked completely before the server starts: an unknown option, a bad value, or an
/// unreadable or malformed config file is a startup failure whose message names the option (contract §1).
/// No reflection: the config file is read with <see cref="JsonDocument"/> and mapped through
/// <see cref="OptionDefinitions"/>.
/// </remarks>
internal static class OptionsLoader
{
    private static readonly JsonDocumentOptions s_configJsonOptions = new()
    {
        // Config files are written by hand; comments and a trailing comma are not worth a failed start.
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <param name="args">The <c>serve</c> arguments, without the command word.</param>
    /// <param name="getEnv">Reads an environment variable (<see cref="Environment.GetEnvironmentVariable(string)"/> in production).</param>
    public static OptionsResult Load(IReadOnlyList<string> args, Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(getEnv);

        // 1. Command line, split by the rule every command follows (CommandArguments: unknown or repeated
        // options are errors); applied last because it wins.
        if (!CommandArguments.TryParse(
                args,
                name => name == OptionDefinitions.ConfigFlag || OptionDefinitions.FindByFlag(name) is not null ? OptionKind.Value : OptionKind.Unknown,
                out CommandArguments? commandLine,
                out string? commandLineError))
        {
            return OptionsResult.Failure(commandLineError);
        }

        if (commandLine.Positionals.Count > 0)
        {
            return OptionsResult.Failure($"unexpected argument '{commandLine.Positionals[0]}'");
        }

        var flags = new List<(OptionDefinition Definition, string Value)>();
        string? configFile = null;
        foreach ((string name, string value) in commandLine.Values)
        {
            if (name != OptionDefinitions.ConfigFlag)
            {
                flags.Add((OptionDefinitions.FindByFlag(name)!, value));
            }
            else if (string.IsNullOrWhiteSpace(value))
            {
                return OptionsResult.Failure($"invalid value for {OptionDefinitions.ConfigFlag}: '{value}' (expected a file path)");
            }
            else
            {
                configFile = value;
            }
        }

        configFile ??= NonEmpty(getEnv(OptionDefinitions.ConfigEnvVar));

        // 2. Config file, over the defaults.
        ServerOptions options = ServerOptions.Default;
        if (configFile is not null)
        {
            string? error = ApplyConfigFile(configFile, ref options);
            if (error is not null)
            {
                return OptionsResult.Failure(error);
            }
        }

        // 3. Environment, over the config file. An empty variable counts as unset, as shells make
        // "VAR= cmd" the usual way to clear one.
        foreach (OptionDefinition definition in OptionDefinitions.All)
        {
            string? value = NonEmpty(getEnv(definition.EnvVar));
            if (value is not null && !definition.TryApply(options, value, out options!))
            {
                return OptionsResult.Failure(InvalidValue($"{definition.EnvVar} ({definition.Flag})", value, definition));
            }
        }

        // 4. Command line, over everything.
        foreach ((OptionDefinition definition, string value) in flags)
        {
            if (!definition.TryApply(options, value, out options!))
            {
                return OptionsResult.Failure(InvalidValue(definition.Flag, value, definition));
            }
        }

        return OptionsResult.Success(options, configFile);
    }

    private static string? ApplyConfigFile(string path, ref ServerOptions options)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"cannot read config file '{path}': {FileErrorText.Describe(ex)}";
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, s_configJsonOptions);
        }
        catch (JsonException ex)
        {
            // Position only: the message is a resource key in the AOT build (UseSystemResourceKeys).
            return $"malformed config file '{path}': invalid JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}";
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return $"malformed config file '{path}': expected a JSON object of options";
            }

            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                OptionDefinition? definition = OptionDefinitions.FindByConfigKey(property.Name);
                if (definition is null)
                {
                    return $"unknown key '{property.Name}' in config file '{path}'";
                }

                string where = $"'{property.Name}' in config file '{path}' ({definition.Flag})";
                string? value = ToOptionText(property.Value, definition.IsList);
                if (value is null)
                {
                    return InvalidValue(where, property.Value.GetRawText(), definition);
                }

                if (!definition.TryApply(options, value, out ServerOptions? applied))
                {
                    return InvalidValue(where, value, definition);
                }

                options = applied;
            }
        }

        return null;
    }

    /// <summary>
    /// The text a config value stands for: strings as they are, numbers as written (so <c>8002</c> and
    /// <c>"8002"</c> mean the same), and for a list option an array of strings joined by commas.
    /// Anything else (objects, booleans, null, nested arrays) has no option meaning.
    /// </summary>
    private static string? ToOptionText(JsonElement value, bool isList)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return value.GetString();
            case JsonValueKind.Number:
                return value.GetRawText();
            case JsonValueKind.Array when isList:
                var parts = new List<string>();
                foreach (JsonElement item in value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        return null;
                    }

                    parts.Add(item.GetString()!);
                }

                return parts.Count == 0 ? OptionDefinitions.NoneValue : string.Join(',', parts);
            default:
                return null;
        }
    }

    private static string InvalidValue(string where, string value, OptionDefinition definition) =>
        $"invalid value for {where}: '{value}' (expected {definition.Expected})";

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
