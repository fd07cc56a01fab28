using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CameraRpc.Protocol;

/// <summary>
/// Walks the raw <c>params</c> of one call for a generated binder: by position or by name, one value
/// at a time, converting each to its C# type without reflection.
/// </summary>
/// <remarks>
/// The generated code calls <see cref="MoveNext"/> until it returns false; each time it gets the
/// parameter slot the value belongs to (its index in the method's list of client-visible parameters)
/// and then calls exactly one <c>TryRead…</c> method, which leaves the reader after the value. The
/// JSON was validated when the envelope was read, so the reader never meets malformed input here.
/// </remarks>
public ref struct RpcParamsReader
{
    private Utf8JsonReader _reader;
    private readonly ReadOnlyMemory<byte> _params;
    private readonly RpcParamsKind _kind;
    private int _position;
    private ulong _seen; // named parameters already given, to refuse a name given twice

    /// <summary>Starts reading the parameters of <paramref name="invocation"/>.</summary>
    public RpcParamsReader(in RpcInvocation invocation)
    {
        _params = invocation.Params;
        _kind = invocation.ParamsKind;
        _reader = new Utf8JsonReader(_params.Span, RpcEnvelopeReader.ReaderOptions);
        if (_kind != RpcParamsKind.None)
        {
            _reader.Read(); // the opening bracket or brace
        }
    }

    /// <summary>
    /// The parameter that <see cref="MoveNext"/> could not place (slot -1): the client's name for a
    /// named parameter, <c>[position]</c> for a positional one.
    /// </summary>
    public string? UnexpectedName { get; private set; }

    /// <summary>
    /// Moves to the next given parameter value. <paramref name="slot"/> is the index in
    /// <paramref name="names"/> it binds to, or -1 when the method has no such parameter (then see
    /// <see cref="UnexpectedName"/>; the caller answers -32602 "unexpected").
    /// </summary>
    /// <param name="names">The method's client-visible parameter names in declaration order, UTF-8.</param>
    /// <returns>False when every given parameter has been read.</returns>
    public bool MoveNext(byte[][] names, out int slot)
    {
        slot = -1;
        if (_kind == RpcParamsKind.None || !_reader.Read() || _reader.TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject)
        {
            return false;
        }

        if (_kind == RpcParamsKind.ByPosition)
        {
            int position = _position++;
            if (position < names.Length)
            {
                slot = position;
            }
            else
            {
                UnexpectedName = "[" + position.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]";
            }

            return true;
        }

        for (int i = 0; i < names.Length; i++)
        {
            if (JsonText.ValueEquals(ref _reader, names[i]))
            {
                ulong bit = i < 64 ? 1UL << i : 0;
                if ((_seen & bit) != 0)
                {
                    break; // the same name twice: unexpected
                }

                _seen |= bit;
                slot = i;
                break;
            }
        }

        if (slot < 0)
        {
            UnexpectedName = JsonText.GetDisplayString(ref _reader);
        }

        _reader.Read(); // onto the value
        return true;
    }

    /// <summary>Skips the current value (used after an unexpected parameter).</summary>
    public void Skip() => _reader.Skip();

    /// <summary>True when the current value is JSON <c>null</c>.</summary>
    public readonly bool IsNull => _reader.TokenType == JsonTokenType.Null;

    public bool TryReadString(out string? value, bool nullable)
    {
        if (_reader.TokenType == JsonTokenType.String)
        {
            return JsonText.TryGetString(ref _reader, out value); // false: not Unicode text, a type error
        }

        value = null;
        return nullable && _reader.TokenType == JsonTokenType.Null;
    }

    public bool TryReadBoolean(out bool value)
    {
        value = _reader.TokenType == JsonTokenType.True;
        return _reader.TokenType is JsonTokenType.True or JsonTokenType.False;
    }

    public bool TryReadInt32(out int value)
    {
        value = 0;
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetInt32(out value);
    }

    public bool TryReadInt64(out long value)
    {
        value = 0;
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetInt64(out value);
    }

    public bool TryReadInt16(out short value)
    {
        value = 0;
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetInt16(out value);
    }

    public bool TryReadByte(out byte value)
    {
        value = 0;
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetByte(out value);
    }

    public bool TryReadSByte(out sbyte value)
    {
        value = 0;
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetSByte(out value);
    }

    public bool TryReadUInt16(out ushort value)
    {
        value = 0;
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetUInt16(out value);
    }

    public bool TryReadUInt32(out uint value)
    {
        value = 0;
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetUInt32(out value);
    }

    public bool TryReadUInt64(out ulong value)
    {
        value = 0;
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetUInt64(out value);
    }

    public bool TryReadDouble(out double value)
    {
        value = 0;
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetDouble(out value) && double.IsFinite(value);
    }

    public bool TryReadSingle(out float value)
    {
        value = 0;
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetSingle(out value) && float.IsFinite(value);
    }

    public bool TryReadDecimal(out decimal value)
    {
        value = 0;
        return _reader.TokenType == JsonTokenType.Number && _reader.TryGetDecimal(out value);
    }

    /// <summary>An enum given by its member name (case-insensitive); numbers are refused so that values cannot drift.</summary>
    public bool TryReadEnum<TEnum>(out TEnum value)
        where TEnum : struct, Enum
    {
        value = default;
        if (_reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        return JsonText.TryGetString(ref _reader, out string? text)
            && !string.IsNullOrEmpty(text)
            && !char.IsAsciiDigit(text[0]) && text[0] != '-' && text[0] != '+'
            && !text.Contains(',')
            && Enum.TryParse(text, ignoreCase: true, out value);
    }

    /// <summary>Any JSON value as a <see cref="JsonElement"/> (a copy that outlives the call).</summary>
    public bool TryReadJsonElement(out JsonElement value)
    {
        value = JsonElement.ParseValue(ref _reader);
        return true;
    }

    /// <summary>Any JSON value as its raw bytes, without parsing or copying (valid for the duration of the call).</summary>
    public bool TryReadRawJson(out RpcRawJson value)
    {
        int start = (int)_reader.TokenStartIndex;
        _reader.Skip();
        int end = (int)_reader.BytesConsumed;
        value = new RpcRawJson(_params.Slice(start, end - start), trusted: true);
        return true;
    }

    /// <summary>A value of a type described by a source-generated <see cref="JsonTypeInfo{T}"/>.</summary>
    public bool TryRead<T>(JsonTypeInfo<T> typeInfo, out T? value)
    {
        Utf8JsonReader probe = _reader;
        try
        {
            value = JsonSerializer.Deserialize(ref _reader, typeInfo);
            return true;
        }
        catch (JsonException)
        {
            // Leave the reader after the value whatever the serializer managed to read.
            _reader = probe;
            _reader.Skip();
            value = default;
            return false;
        }
        catch (NotSupportedException)
        {
            _reader = probe;
            _reader.Skip();
            value = default;
            return false;
        }
    }

    /// <summary>Reads one element of an array; see <see cref="TryReadArray{T}"/>.</summary>
    public delegate bool ElementReader<T>(ref RpcParamsReader reader, out T value);

    /// <summary>
    /// A JSON array whose every element <paramref name="readElement"/> accepts; <c>null</c> is accepted
    /// when <paramref name="nullable"/> is true.
    /// </summary>
    public bool TryReadArray<T>(ElementReader<T> readElement, out T[]? value, bool nullable)
    {
        value = null;
        if (_reader.TokenType == JsonTokenType.Null)
        {
            return nullable;
        }

        if (_reader.TokenType != JsonTokenType.StartArray)
        {
            _reader.Skip();
            return false;
        }

        var items = new List<T>();
        while (_reader.Read() && _reader.TokenType != JsonTokenType.EndArray)
        {
            if (!readElement(ref this, out T item))
            {
                // Leave the reader after the whole array.
                _reader.Skip();
                while (_reader.Read() && _reader.TokenType != JsonTokenType.EndArray)
                {
                    _reader.Skip();
                }

                return false;
            }

            items.Add(item);
        }

        value = items.ToArray();
        return true;
    }

    /// <summary>Leaves the reader after the current value, whatever it is (used after a failed scalar read).</summary>
    internal void SkipValue() => _reader.Skip();
}
