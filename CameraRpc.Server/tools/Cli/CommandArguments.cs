using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using CameraRpc.Server.Tools.Client;

namespace CameraRpc.Server.Tools.Cli;

/// <summary>
/// The arguments after a command name, split into positionals, <c>--name value</c> (or
/// <c>--name=value</c>) options and <c>--flag</c> switches, with typed getters whose errors
/// name the option. Every command's command line goes through <see cref="TryParse(IReadOnlyList{string}, Func{string, OptionKind}, out CommandArguments?, out string?)"/>,
/// <c>serve</c>'s included (its option table stays in <c>Configuration/</c>), so they all follow one rule.
/// </summary>
/// <remarks>
/// The rule: an option the command does not know is an error, so a typo never goes unnoticed; an
/// option given twice is an error too (which one was meant cannot be guessed, and a script that adds
/// one to a command line that has it should say so, not win or lose by position); a value that
/// starts with <c>--</c> must be written <c>--name=value</c>, so a forgotten value is "missing value",
/// not the next option swallowed as one; <c>--</c> ends the options, everything after it is a positional.
/// </remarks>
internal sealed class CommandArguments
{
    /// <summary>The URL every client command uses when <c>--url</c> is absent (contract §1).</summary>
    public const string DefaultUrl = "ws://127.0.0.1:8002/ws";

    /// <summary>
    /// The value that turns an optional setting off (<c>--log-file none</c>, <c>CAMERARPC_AUTH_TOKEN=none</c>),
    /// the same word for the server's options and the tools' environment.
    /// </summary>
    public const string NoneValue = "none";

    private readonly List<KeyValuePair<string, string>> _values = [];
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    private CommandArguments()
    {
    }

    /// <summary>The arguments that are not options, in order.</summary>
    public IReadOnlyList<string> Positionals => _positionals;

    /// <summary>The options with a value, in command-line order, each name once.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Values => _values;

    /// <summary>Splits <paramref name="args"/> for a command whose options are the listed ones.</summary>
    public static bool TryParse(
        IReadOnlyList<string> args,
        string[] valueOptions,
        string[] flagOptions,
        [NotNullWhen(true)] out CommandArguments? parsed,
        [NotNullWhen(false)] out string? error) =>
        TryParse(
            args,
            name => Array.IndexOf(flagOptions, name) >= 0 ? OptionKind.Flag : Array.IndexOf(valueOptions, name) >= 0 ? OptionKind.Value : OptionKind.Unknown,
            out parsed,
            out error);

    /// <summary>
    /// Splits <paramref name="args"/>; fails on an unknown option, a missing value, a value given to a
    /// switch, or an option given twice. The error names the option.
    /// </summary>
    /// <param name="args">The arguments after the command name.</param>
    /// <param name="classify">What the command does with each <c>--name</c>.</param>
    /// <param name="parsed">The split arguments.</param>
    /// <param name="error">Why they cannot be split.</param>
    public static bool TryParse(
        IReadOnlyList<string> args,
        Func<string, OptionKind> classify,
        [NotNullWhen(true)] out CommandArguments? parsed,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(classify);
        var result = new CommandArguments();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        parsed = null;
        bool optionsEnded = false;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (optionsEnded || !arg.StartsWith("--", StringComparison.Ordinal))
            {
                result._positionals.Add(arg);
                continue;
            }

            if (arg == "--")
            {
                optionsEnded = true;
                continue;
            }

            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string name = equals < 0 ? arg : arg[..equals];
            OptionKind kind = classify(name);
            if (kind == OptionKind.Unknown)
            {
                error = $"unknown option '{name}' (see --help)";
                return false;
            }

            if (!seen.Add(name))
            {
                error = $"{name} given twice (give each option once)";
                return false;
            }

            if (kind == OptionKind.Flag)
            {
                if (equals >= 0)
                {
                    error = $"{name} takes no value";
                    return false;
                }

                result._flags.Add(name);
                continue;
            }

            string value;
            if (equals >= 0)
            {
                value = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                error = $"missing value for {name}";
                return false;
            }

            result._values.Add(new(name, value));
        }

        parsed = result;
        error = null;
        return true;
    }

    /// <summary>True when the switch was given.</summary>
    public bool HasFlag(string name) => _flags.Contains(name);

    /// <summary>The option's text, or <see langword="null"/> when absent.</summary>
    public string? GetValue(string name)
    {
        foreach (KeyValuePair<string, string> option in _values)
        {
            if (option.Key == name)
            {
                return option.Value;
            }
        }

        return null;
    }

    /// <summary>An integer option within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public bool TryGetInt(string name, int defaultValue, int min, int max, out int value, [NotNullWhen(false)] out string? error)
    {
        error = null;
        value = defaultValue;
        string? text = GetValue(name);
        if (text is null)
        {
            return true;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) || value < min || value > max)
        {
            error = $"{name} must be an integer from {min} to {max}, not '{text}'";
            return false;
        }

        return true;
    }

    /// <summary>A number of seconds within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public bool TryGetSeconds(string name, double defaultValue, double min, double max, out TimeSpan value, [NotNullWhen(false)] out string? error)
    {
        error = null;
        value = TimeSpan.FromSeconds(defaultValue);
        string? text = GetValue(name);
        if (text is null)
        {
            return true;
        }

        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds)
            || !double.IsFinite(seconds) || seconds < min || seconds > max)
        {
            error = $"{name} must be a number of seconds from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, not '{text}'";
            return false;
        }

        value = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary><c>--url</c> (or the default) as an absolute URL with one of <paramref name="schemes"/>.</summary>
    public bool TryGetUrl(string[] schemes, [NotNullWhen(true)] out Uri? url, [NotNullWhen(false)] out string? error)
    {
        string text = GetValue("--url") ?? DefaultUrl;
        if (!Uri.TryCreate(text, UriKind.Absolute, out url) || Array.IndexOf(schemes, url.Scheme) < 0)
        {
            url = null;
            error = $"--url must be an absolute {string.Join(", ", schemes.Select(s => s + "://"))} URL, not '{text}'";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>
    /// The positionals <c>NAME [PARAMS_JSON]</c> of <c>call</c> (METHOD) and <c>watch</c> (TOPIC): a non-empty
    /// name and optional params, compact; <paramref name="label"/> names the first in errors.
    /// </summary>
    public bool TryGetNameAndParams(
        string label, [NotNullWhen(true)] out string? name, out string? paramsJson, [NotNullWhen(false)] out string? error)
    {
        name = null;
        paramsJson = null;
        if (_positionals.Count is 0 or > 2)
        {
            error = _positionals.Count == 0 ? $"{label} is missing" : "too many arguments (quote PARAMS_JSON as one argument)";
            return false;
        }

        if (_positionals[0].Length == 0)
        {
            error = $"{label} is empty";
            return false;
        }

        if (_positionals.Count == 2 && !TryValidateParams(_positionals[1], out paramsJson, out error))
        {
            return false;
        }

        name = _positionals[0];
        error = null;
        return true;
    }

    /// <summary>
    /// True when <paramref name="json"/> is one JSON array or object, as JSON-RPC <c>params</c> must be;
    /// <paramref name="minified"/> is its compact form.
    /// </summary>
    public static bool TryValidateParams(string json, [NotNullWhen(true)] out string? minified, [NotNullWhen(false)] out string? error)
    {
        minified = null;
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind is not (JsonValueKind.Array or JsonValueKind.Object))
            {
                error = $"PARAMS_JSON must be a JSON array or object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}";
                return false;
            }

            minified = RpcAnswer.Format(document.RootElement, indented: false);
            error = null;
            return true;
        }
        catch (JsonException exception)
        {
            error = $"PARAMS_JSON is not valid JSON: {exception.Message}";
            return false;
        }
    }
}
