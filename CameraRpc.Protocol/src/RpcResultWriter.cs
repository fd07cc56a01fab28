using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CameraRpc.Protocol;

/// <summary>
/// Writes a method's result value for generated invokers: one overload per supported C# type, so the
/// generator emits <c>RpcResultWriter.Write(writer, result)</c> and overload resolution does the rest.
/// </summary>
public static class RpcResultWriter
{
    /// <summary>The result of a method that returns nothing: <c>null</c>.</summary>
    public static void WriteNull(Utf8JsonWriter writer) => writer.WriteNullValue();

    public static void Write(Utf8JsonWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }

    public static void Write(Utf8JsonWriter writer, bool value) => writer.WriteBooleanValue(value);

    public static void Write(Utf8JsonWriter writer, int value) => writer.WriteNumberValue(value);

    public static void Write(Utf8JsonWriter writer, long value) => writer.WriteNumberValue(value);

    public static void Write(Utf8JsonWriter writer, short value) => writer.WriteNumberValue(value);

    public static void Write(Utf8JsonWriter writer, byte value) => writer.WriteNumberValue(value);

    public static void Write(Utf8JsonWriter writer, sbyte value) => writer.WriteNumberValue(value);

    public static void Write(Utf8JsonWriter writer, ushort value) => writer.WriteNumberValue(value);

    public static void Write(Utf8JsonWriter writer, uint value) => writer.WriteNumberValue(value);

    public static void Write(Utf8JsonWriter writer, ulong value) => writer.WriteNumberValue(value);

    public static void Write(Utf8JsonWriter writer, double value) => writer.WriteNumberValue(value);

    public static void Write(Utf8JsonWriter writer, float value) => writer.WriteNumberValue(value);

    public static void Write(Utf8JsonWriter writer, decimal value) => writer.WriteNumberValue(value);

    public static void Write(Utf8JsonWriter writer, JsonElement value) => value.WriteTo(writer);

    public static void Write(Utf8JsonWriter writer, RpcRawJson value) =>
        writer.WriteRawValue(value.Utf8Json.Span, skipInputValidation: value.IsTrusted);

    /// <summary>A nullable value type: <c>null</c> or the value.</summary>
    public static void WriteNullable<T>(Utf8JsonWriter writer, T? value, Action<Utf8JsonWriter, T> write)
        where T : struct
    {
        if (value is T v)
        {
            write(writer, v);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    /// <summary>An enum, written as its member name.</summary>
    public static void WriteEnum<TEnum>(Utf8JsonWriter writer, TEnum value)
        where TEnum : struct, Enum => writer.WriteStringValue(value.ToString());

    /// <summary>An array, each element written by <paramref name="writeElement"/>.</summary>
    public static void WriteArray<T>(Utf8JsonWriter writer, T[]? values, Action<Utf8JsonWriter, T> writeElement)
    {
        if (values is null)
        {
            writer.WriteNullValue();
            return;
        }

        writer.WriteStartArray();
        foreach (T value in values)
        {
            writeElement(writer, value);
        }

        writer.WriteEndArray();
    }

    /// <summary>A value of a type described by a source-generated <see cref="JsonTypeInfo{T}"/>.</summary>
    public static void Write<T>(Utf8JsonWriter writer, T value, JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.Serialize(writer, value, typeInfo);
}
