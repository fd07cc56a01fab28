namespace CameraRpc.Server.Transport;

/// <summary>
/// Checks a text message's UTF-8 as its pieces arrive (RFC 6455 section 8.1): a code point cut at the
/// end of one piece continues in the next; only the message's end must not cut one.
/// </summary>
/// <remarks>
/// A byte is refused as soon as it cannot start or continue a valid sequence (a lone continuation
/// byte, 0xF8 and up, a surrogate, a code point past U+10FFFF), an overlong form once its sequence is
/// complete. ASCII runs, which is what JSON is made of, are skipped with a vectorised search. A mutable
/// struct kept in a field, never copied; one message at a time.
/// </remarks>
internal struct Utf8Stream
{
    private int _pending; // continuation bytes still expected in the current sequence
    private int _bits;    // the code point so far
    private int _minimum; // the smallest code point the sequence's length may carry (overlong check)

    /// <summary>Starts a new message.</summary>
    public void Reset() => _pending = 0;

    /// <summary>
    /// Takes the next piece of the message; false when it is not UTF-8 (or, at
    /// <paramref name="endOfMessage"/>, when it ends inside a sequence).
    /// </summary>
    public bool Accept(ReadOnlySpan<byte> bytes, bool endOfMessage)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            if (_pending == 0)
            {
                int nonAscii = bytes[i..].IndexOfAnyExceptInRange((byte)0, (byte)0x7F);
                if (nonAscii < 0)
                {
                    break;
                }

                i += nonAscii;
                byte lead = bytes[i++];
                switch (lead)
                {
                    case < 0xC0:
                        return false; // a continuation byte with no sequence to continue
                    case < 0xE0:
                        (_pending, _bits, _minimum) = (1, lead & 0x1F, 0x80);
                        break;
                    case < 0xF0:
                        (_pending, _bits, _minimum) = (2, lead & 0x0F, 0x800);
                        break;
                    case < 0xF8:
                        (_pending, _bits, _minimum) = (3, lead & 0x07, 0x10000);
                        break;
                    default:
                        return false;
                }

                continue;
            }

            byte next = bytes[i++];
            if ((next & 0xC0) != 0x80)
            {
                return false;
            }

            _pending--;
            _bits = (_bits << 6) | (next & 0x3F);
            if ((_pending == 1 && _bits is >= 0x360 and <= 0x37F) || (_pending == 2 && _bits >= 0x110))
            {
                return false; // a surrogate (U+D800 to U+DFFF), or past U+10FFFF
            }

            if (_pending == 0 && _bits < _minimum)
            {
                return false; // overlong
            }
        }

        return !endOfMessage || _pending == 0;
    }
}
