using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using CameraRpc.Server.Client;

namespace CameraRpc.Server.Commands;

/// <summary>
/// The arguments after a command name, split into positionals, <c>--name value</c> (or
/// <c>--name=value</c>) options and <c>--flag</c> switches, with typed getters whose errors
/// name the option.
/// </summary>
/// <remarks>Every command declares the options it knows; anything else is an error, so a typo never goes unnoticed.</remarks>
internal sealed class CommandArguments
{
    /// <summary>The URL every client command uses when <c>--url</c> is absent (contract §1).</summary>
    public const string DefaultUrl = "ws://127.0.0.1:8002/ws";

    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    private CommandArguments()
    {
    }

    /// <summary>The arguments that are not options, in order.</summary>
    public IReadOnlyList<string> Positionals => _positionals;

    /// <summary>Splits <paramref name="args"/>; fails on an unknown option, a missing value or a repeated option.</summary>
    public static bool TryParse(
        IReadOnlyList<string> args,
        string[] valueOptions,
        string[] flagOptions,
        [NotNullWhen(true)] out CommandArguments? parsed,
        [NotNullWhen(false)] out string? error)
    {
        var result = new CommandArguments();
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
            if (Array.IndexOf(flagOptions, name) >= 0)
            {
                if (equals >= 0)
                {
                    error = $"{name} takes no value";
                    return false;
                }

                result._flags.Add(name);
                continue;
            }

            if (Array.IndexOf(valueOptions, name) < 0)
            {
                error = $"unknown option {name}";
                return false;
            }

            string value;
            if (equals >= 0)
            {
                value = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                error = $"{name} needs a value";
                return false;
            }

            if (!result._values.TryAdd(name, value))
            {
                error = $"{name} given twice";
                return false;
            }
        }

        parsed = result;
        error = null;
        return true;
    }

    /// <summary>True when the switch was given.</summary>
    public bool HasFlag(string name) => _flags.Contains(name);

    /// <summary>The option's text, or <see langword="null"/> when absent.</summary>
    public string? GetValue(string name) => _values.TryGetValue(name, out string? value) ? value : null;

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
