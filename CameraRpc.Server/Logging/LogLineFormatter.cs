using System.Buffers;
using System.Globalization;
using System.Text;

namespace CameraRpc.Server.Logging;

/// <summary>
/// The log line format of contract §4, <c>yyyy-MM-dd HH:mm:ss,fff - CameraRpc.Server - LEVEL - message</c>
/// (the layout of Python's logging, which the seed server used), and the rendering of message bodies.
/// </summary>
/// <remarks>
/// Messages carry client data (method names, whole request bodies), so control characters are escaped:
/// one call is always exactly one line, and a client cannot forge lines in the log.
/// Stateless and thread-safe.
/// </remarks>
internal static class LogLineFormatter
{
    /// <summary>Message bodies longer than this many UTF-8 bytes are cut (contract §4).</summary>
    public const int MaxBodyBytes = 1024;

    private const string Source = " - CameraRpc.Server - ";
    private const string Separator = " - ";

    // "yyyy-MM-dd HH:mm:ss,fff".Length
    private const int TimestampLength = 23;

    // Longest level name ("WARNING") plus the fixed text around it.
    private const int MaxPrefixLength = TimestampLength + 22 + 7 + 3;

    /// <summary>The most characters <see cref="Format(Span{char}, DateTime, LogLevel, ReadOnlySpan{char})"/> can write for a message.</summary>
    public static int GetMaxLength(int messageLength) => MaxPrefixLength + (messageLength * 6);

    /// <summary>The level as it appears in a line.</summary>
    public static string GetLevelName(LogLevel level) => level switch
    {
        LogLevel.Debug => "DEBUG",
        LogLevel.Info => "INFO",
        LogLevel.Warning => "WARNING",
        _ => "ERROR",
    };

    /// <summary>One line, without the line terminator.</summary>
    public static string Format(DateTime timestamp, LogLevel level, ReadOnlySpan<char> message)
    {
        char[] buffer = ArrayPool<char>.Shared.Rent(GetMaxLength(message.Length));
        try
        {
            int length = Format(buffer, timestamp, level, message);
            return new string(buffer, 0, length);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Writes one line, without the line terminator, into <paramref name="destination"/>, which must hold
    /// at least <see cref="GetMaxLength"/> characters.
    /// </summary>
    /// <param name="timestamp">The time the event happened, in the time zone the line should show (local).</param>
    /// <returns>The number of characters written.</returns>
    public static int Format(Span<char> destination, DateTime timestamp, LogLevel level, ReadOnlySpan<char> message)
    {
        // Written digit by digit: the culture-independent layout needs no format string parsing per line.
        WriteDigits(destination, 0, timestamp.Year, 4);
        destination[4] = '-';
        WriteDigits(destination, 5, timestamp.Month, 2);
        destination[7] = '-';
        WriteDigits(destination, 8, timestamp.Day, 2);
        destination[10] = ' ';
        WriteDigits(destination, 11, timestamp.Hour, 2);
        destination[13] = ':';
        WriteDigits(destination, 14, timestamp.Minute, 2);
        destination[16] = ':';
        WriteDigits(destination, 17, timestamp.Second, 2);
        destination[19] = ',';
        WriteDigits(destination, 20, timestamp.Millisecond, 3);
        int position = TimestampLength;

        Source.CopyTo(destination[position..]);
        position += Source.Length;
        string levelName = GetLevelName(level);
        levelName.CopyTo(destination[position..]);
        position += levelName.Length;
        Separator.CopyTo(destination[position..]);
        position += Separator.Length;

        return position + Escape(message, destination[position..]);
    }

    /// <summary>
    /// Renders a UTF-8 message body for the log: at most <see cref="MaxBodyBytes"/> bytes of it, cut before
    /// a character rather than inside one, followed by <c> …[truncated, N bytes total]</c> when cut.
    /// </summary>
    public static string RenderBody(ReadOnlySpan<byte> utf8Body) => ComposeBodyMessage(string.Empty, string.Empty, string.Empty, utf8Body);

    /// <summary>
    /// <c>{lead}{endpoint}{separator}{body}</c> as one string, the body rendered as by <see cref="RenderBody"/>;
    /// the only allocation is the result, which keeps the per-message log lines cheap.
    /// </summary>
    public static string ComposeBodyMessage(string lead, string endpoint, string separator, ReadOnlySpan<byte> utf8Body)
    {
        int cut = GetBodyCut(utf8Body);
        ReadOnlySpan<byte> kept = utf8Body[..cut];
        int bodyChars = Encoding.UTF8.GetMaxCharCount(kept.Length);

        // 48 characters hold the marker with any int length.
        char[] buffer = ArrayPool<char>.Shared.Rent(lead.Length + endpoint.Length + separator.Length + bodyChars + 48);
        try
        {
            Span<char> span = buffer;
            int position = 0;
            lead.CopyTo(span);
            position += lead.Length;
            endpoint.CopyTo(span[position..]);
            position += endpoint.Length;
            separator.CopyTo(span[position..]);
            position += separator.Length;
            position += Encoding.UTF8.GetChars(kept, span[position..]);
            if (cut < utf8Body.Length)
            {
                span[position..].TryWrite(CultureInfo.InvariantCulture, $" …[truncated, {utf8Body.Length} bytes total]", out int written);
                position += written;
            }

            return new string(buffer, 0, position);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// How many leading bytes of <paramref name="utf8Body"/> are logged: all of it up to
    /// <see cref="MaxBodyBytes"/>, otherwise the longest prefix of at most that many bytes that does not
    /// end inside a UTF-8 sequence.
    /// </summary>
    public static int GetBodyCut(ReadOnlySpan<byte> utf8Body)
    {
        if (utf8Body.Length <= MaxBodyBytes)
        {
            return utf8Body.Length;
        }

        // A continuation byte (10xxxxxx) at the cut means the cut splits a sequence: move back to its lead
        // byte. At most three steps in valid UTF-8; the bound keeps garbage input from walking further.
        int cut = MaxBodyBytes;
        for (int steps = 0; steps < 3 && cut > 0 && (utf8Body[cut] & 0xC0) == 0x80; steps++)
        {
            cut--;
        }

        return cut;
    }

    /// <summary>
    /// Copies <paramref name="message"/>, writing line breaks as <c>\n</c> and <c>\r</c> and other control
    /// characters as <c>\u00XX</c>. Besides C0 and DEL this covers C1 (NEL, U+0085) and U+2028/U+2029,
    /// which some log viewers also break lines at.
    /// </summary>
    private static int Escape(ReadOnlySpan<char> message, Span<char> destination)
    {
        int written = 0;
        int start = 0;
        for (int i = 0; i < message.Length; i++)
        {
            char c = message[i];
            if ((c >= ' ' && c < '\u007F') || (c > '\u009F' && c != '\u2028' && c != '\u2029'))
            {
                continue;
            }

            message[start..i].CopyTo(destination[written..]);
            written += i - start;
            start = i + 1;
            destination[written++] = '\\';
            switch (c)
            {
                case '\n':
                    destination[written++] = 'n';
                    break;
                case '\r':
                    destination[written++] = 'r';
                    break;
                default:
                    destination[written++] = 'u';
                    ((int)c).TryFormat(destination[written..], out int hex, "x4", CultureInfo.InvariantCulture);
                    written += hex;
                    break;
            }
        }

        message[start..].CopyTo(destination[written..]);
        return written + message.Length - start;
    }

    private static void WriteDigits(Span<char> destination, int offset, int value, int count)
    {
        for (int i = offset + count - 1; i >= offset; i--)
        {
            destination[i] = (char)('0' + (value % 10));
            value /= 10;
        }
    }
}
