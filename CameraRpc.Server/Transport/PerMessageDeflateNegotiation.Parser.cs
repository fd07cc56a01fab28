namespace CameraRpc.Server.Transport;

internal static partial class PerMessageDeflateNegotiation
{
    /// <summary>
    /// Splits a <c>Sec-WebSocket-Extensions</c> value into its offers (RFC 6455 section 9.1:
    /// <c>name *( ";" param [ "=" ( token / quoted-string ) ] )</c>, offers separated by commas).
    /// </summary>
    /// <remarks>
    /// Never throws: an offer that breaks the grammar comes back <see cref="ExtensionOffer.Malformed"/>
    /// and is declined on its own, and the offers around it are still read. Empty list elements are
    /// skipped (RFC 9110 section 5.6.1).
    /// </remarks>
    internal static List<ExtensionOffer> ParseOffers(string header)
    {
        var offers = new List<ExtensionOffer>();
        int position = 0;
        while (position < header.Length)
        {
            int end = FindUnquoted(header, position, ',');
            string element = header[position..end];
            position = end + 1;
            if (!string.IsNullOrWhiteSpace(element))
            {
                offers.Add(ParseOffer(element));
            }
        }

        return offers;
    }

    private static ExtensionOffer ParseOffer(string element)
    {
        var parameters = new List<(string Name, string? Value)>();
        int end = FindUnquoted(element, 0, ';');
        string name = element[..end].Trim();
        bool malformed = !IsToken(name);
        while (end < element.Length)
        {
            int start = end + 1;
            end = FindUnquoted(element, start, ';');
            if (TryParseParameter(element[start..end], out string parameterName, out string? value))
            {
                parameters.Add((parameterName, value));
            }
            else
            {
                malformed = true;
            }
        }

        return new ExtensionOffer(name, parameters, malformed);
    }

    private static bool TryParseParameter(string parameter, out string name, out string? value)
    {
        value = null;
        int equals = parameter.IndexOf('=');
        name = (equals < 0 ? parameter : parameter[..equals]).Trim();
        if (!IsToken(name))
        {
            return false;
        }

        if (equals < 0)
        {
            return true;
        }

        string raw = parameter[(equals + 1)..].Trim();
        if (raw.Length >= 2 && raw[0] == '"' && raw[^1] == '"')
        {
            // A quoted-string; RFC 7692 section 7 wants its unescaped content to be a token as well.
            var unescaped = new System.Text.StringBuilder(raw.Length);
            for (int i = 1; i < raw.Length - 1; i++)
            {
                char c = raw[i];
                if (c == '\\')
                {
                    if (++i == raw.Length - 1)
                    {
                        return false;
                    }

                    c = raw[i];
                }

                unescaped.Append(c);
            }

            raw = unescaped.ToString();
        }

        if (!IsToken(raw))
        {
            return false;
        }

        value = raw;
        return true;
    }

    /// <summary>The index of the next <paramref name="separator"/> outside a quoted-string, or the length.</summary>
    private static int FindUnquoted(string text, int start, char separator)
    {
        bool quoted = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted && c == '\\')
            {
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == separator && !quoted)
            {
                return i;
            }
        }

        return text.Length;
    }

    /// <summary>An HTTP token (RFC 9110 section 5.6.2): one or more visible characters other than the delimiters.</summary>
    private static bool IsToken(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (c is <= ' ' or >= '\x7f' || "\"(),/:;<=>?@[\\]{}".Contains(c))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>One offered extension: its name, its parameters in order, and whether it broke the grammar.</summary>
internal sealed record ExtensionOffer(string Name, IReadOnlyList<(string Name, string? Value)> Parameters, bool Malformed);
