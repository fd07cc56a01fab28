using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// Reads the text of a JSON string or property name from a client's message without ever throwing.
/// </summary>
/// <remarks>
/// <c>"\ud800"</c> (an escaped surrogate with no partner) is valid JSON syntax (RFC 8259 section 8.2)
/// and <see cref="Utf8JsonReader"/> accepts it, but it is not Unicode text: asking the reader to
/// unescape it (<c>GetString</c>, <c>CopyString</c>, even <c>ValueTextEquals</c>) throws
/// <see cref="InvalidOperationException"/>. JavaScript's <c>JSON.stringify</c> and Python's
/// <c>json.dumps</c> both produce such strings, so the engine must answer them, not fail on them:
/// every place that decodes client text goes through here. Only escaped values can fail, so the
/// common path is the reader's own call with no exception handling around it.
/// </remarks>
internal static class JsonText
{
    /// <summary>True when the current string equals <paramref name="utf8"/>; false when it does not or cannot be decoded.</summary>
    /// <remarks>Inlined, so that the common case (no escapes) costs what the reader's own call costs: a method with a try block is never inlined.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool ValueEquals(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8) =>
        reader.ValueIsEscaped ? EscapedValueEquals(ref reader, utf8) : reader.ValueTextEquals(utf8);

    private static bool EscapedValueEquals(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8)
    {
        try
        {
            return reader.ValueTextEquals(utf8);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The current string, decoded; false when its escapes are not Unicode text.</summary>
    public static bool TryGetString(ref Utf8JsonReader reader, out string? value)
    {
        if (!reader.ValueIsEscaped)
        {
            value = reader.GetString();
            return true;
        }

        try
        {
            value = reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = null;
            return false;
        }
    }

    /// <summary>The current string's text, unescaped, into <paramref name="destination"/>; false when its escapes are not Unicode text.</summary>
    public static bool TryCopyString(ref Utf8JsonReader reader, Span<byte> destination, out int written)
    {
        try
        {
            written = reader.CopyString(destination);
            return true;
        }
        catch (InvalidOperationException)
        {
            written = 0;
            return false;
        }
    }

    /// <summary>
    /// The current string for quoting back in an error: decoded when possible, otherwise exactly as
    /// the client wrote it (escapes included), so that the client can recognise what it sent.
    /// </summary>
    public static string GetDisplayString(ref Utf8JsonReader reader) =>
        TryGetString(ref reader, out string? value) ? value! : Encoding.UTF8.GetString(reader.ValueSpan);
}
