using System.Text.Json;

namespace CameraRpc.Protocol;

/// <summary>
/// Reads the envelope of one JSON-RPC request object with <see cref="Utf8JsonReader"/>, straight
/// over the message bytes. Never throws on bad input: the outcome is a value.
/// </summary>
/// <remarks>
/// Rules (CONTRACT section 3): <c>jsonrpc</c> must be the string <c>"2.0"</c>; <c>method</c> a string;
/// <c>params</c>, when present, an array or an object (<c>null</c> is not allowed); <c>id</c>, when
/// present, a string, a number or <c>null</c>. Other members are ignored. Any of the four given twice
/// makes the request invalid. The whole object is always read to its end, so that a message which is
/// not JSON at all is reported as a parse error and never as an invalid request.
/// </remarks>
internal static class RpcEnvelopeReader
{
    /// <summary>The deepest JSON nesting a message may have; deeper is -32700 (CONTRACT section 3).</summary>
    public const int MaxDepth = 64;

    /// <summary>Options of every reader in the engine: nesting at most <see cref="MaxDepth"/> deep, strict JSON.</summary>
    public static readonly JsonReaderOptions ReaderOptions = new()
    {
        MaxDepth = MaxDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    private const int SeenJsonRpc = 1, SeenMethod = 2, SeenParams = 4, SeenId = 8;

    /// <summary>
    /// Reads the value the reader is positioned on (its current token) as a request object.
    /// <paramref name="offset"/> is added to every recorded position, so that positions are relative
    /// to the whole message even when the reader runs over a slice of it.
    /// </summary>
    /// <returns>False when the JSON itself is malformed (-32700); the request is then meaningless.</returns>
    public static bool TryRead(ref Utf8JsonReader reader, int offset, out RpcRequest request)
    {
        request = default;
        try
        {
            request = ReadCore(ref reader, offset);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static RpcRequest ReadCore(ref Utf8JsonReader reader, int offset)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return default; // not an object: invalid, no id
        }

        bool valid = true;
        int seen = 0;
        int methodStart = 0, methodLength = 0;
        bool methodEscaped = false;
        int idStart = 0, idLength = 0;
        bool idValid = true;
        int paramsStart = 0, paramsLength = 0;
        RpcParamsKind paramsKind = RpcParamsKind.None;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int member = MemberOf(ref reader);
            if (member != 0)
            {
                if ((seen & member) != 0)
                {
                    valid = false; // a duplicated envelope member is ambiguous: refuse it
                    idValid &= member != SeenId; // and with two ids there is no id to echo
                }

                seen |= member;
            }

            reader.Read();
            switch (member)
            {
                case SeenJsonRpc:
                    if (reader.TokenType != JsonTokenType.String || !JsonText.ValueEquals(ref reader, JsonRpcNames.Version))
                    {
                        valid = false;
                    }

                    break;

                case SeenMethod:
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        methodStart = offset + (int)reader.TokenStartIndex + 1;
                        methodLength = reader.ValueSpan.Length;
                        methodEscaped = reader.ValueIsEscaped;
                    }
                    else
                    {
                        valid = false;
                        reader.Skip();
                    }

                    break;

                case SeenParams:
                    if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject)
                    {
                        paramsKind = reader.TokenType == JsonTokenType.StartArray ? RpcParamsKind.ByPosition : RpcParamsKind.ByName;
                        int start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        paramsStart = offset + start;
                        paramsLength = (int)reader.BytesConsumed - start;
                    }
                    else
                    {
                        valid = false; // null, a string, a number: not a structured value
                        reader.Skip();
                    }

                    break;

                case SeenId:
                    if (idValid && reader.TokenType is JsonTokenType.String or JsonTokenType.Number or JsonTokenType.Null)
                    {
                        int start = (int)reader.TokenStartIndex;
                        idStart = offset + start;
                        idLength = (int)reader.BytesConsumed - start;
                    }
                    else
                    {
                        idValid = false;
                        valid = false;
                        reader.Skip();
                    }

                    break;

                default:
                    reader.Skip(); // members outside the envelope are ignored
                    break;
            }
        }

        if ((seen & (SeenJsonRpc | SeenMethod)) != (SeenJsonRpc | SeenMethod))
        {
            valid = false;
        }

        if (!idValid)
        {
            idLength = 0;
        }

        return new RpcRequest(valid, methodStart, methodLength, methodEscaped, idStart, idLength, paramsStart, paramsLength, paramsKind);
    }

    private static int MemberOf(ref Utf8JsonReader reader)
    {
        if (JsonText.ValueEquals(ref reader, JsonRpcNames.Method))
        {
            return SeenMethod;
        }

        if (JsonText.ValueEquals(ref reader, JsonRpcNames.Params))
        {
            return SeenParams;
        }

        if (JsonText.ValueEquals(ref reader, JsonRpcNames.Id))
        {
            return SeenId;
        }

        if (JsonText.ValueEquals(ref reader, JsonRpcNames.JsonRpc))
        {
            return SeenJsonRpc;
        }

        return 0;
    }
}
