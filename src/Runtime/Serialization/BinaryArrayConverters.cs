using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AlignCluster.Runtime.Serialization;

/// <summary>
/// Writes arrays of numbers (<c>byte[]</c>, <c>float[]</c>, <c>double[]</c>, <c>int[]</c>, …) and byte buffers
/// inside JSON values as a segment number whose raw bytes travel after the JSON (<see cref="BinaryContainer"/>).
/// Reads that form, and also the plain JSON forms written before (base64 for bytes, a JSON array for numbers).
/// </summary>
internal sealed class BinaryArrayConverterFactory : JsonConverterFactory
{
    private static readonly HashSet<Type> Elements =
    [
        typeof(byte), typeof(sbyte), typeof(short), typeof(ushort), typeof(int), typeof(uint), typeof(long), typeof(ulong),
        typeof(float), typeof(double), typeof(Half),
    ];

    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert == typeof(ReadOnlyMemory<byte>) || typeToConvert == typeof(Memory<byte>) ||
        typeToConvert.IsSZArray && Elements.Contains(typeToConvert.GetElementType()!);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
    {
        if (typeToConvert == typeof(ReadOnlyMemory<byte>)) return new ReadOnlyMemoryConverter();
        if (typeToConvert == typeof(Memory<byte>)) return new MemoryConverter();
        return (JsonConverter)Activator.CreateInstance(typeof(ArrayConverter<>).MakeGenericType(typeToConvert.GetElementType()!))!;
    }

    private static BinarySegments Scope() => BinarySegments.Current
        ?? throw new JsonException("a binary segment reference was met outside a binary container");

    private sealed class ArrayConverter<T> : JsonConverter<T[]> where T : unmanaged
    {
        public override T[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.Null:
                    return null;
                case JsonTokenType.Number:
                    var bytes = Scope().Segment(reader.GetInt32()).Span;
                    int size = BinarySegments.ElementSize<T>();
                    if (bytes.Length % size != 0)
                        throw new JsonException($"binary segment of {bytes.Length} bytes is not a whole number of {typeof(T).Name} ({size} bytes each)");
                    var array = GC.AllocateUninitializedArray<T>(bytes.Length / size);
                    bytes.CopyTo(MemoryMarshal.AsBytes(array.AsSpan()));
                    return array;
                case JsonTokenType.String when typeof(T) == typeof(byte):
                    return (T[])(object)reader.GetBytesFromBase64();
                case JsonTokenType.StartArray:
                    var items = new List<T>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        items.Add(JsonSerializer.Deserialize<T>(ref reader, options));
                    return [.. items];
                default:
                    throw new JsonException($"expected a {typeof(T).Name}[] (segment number, array or base64), found {reader.TokenType}");
            }
        }

        public override void Write(Utf8JsonWriter writer, T[] value, JsonSerializerOptions options)
        {
            if (BinarySegments.Current is { } scope)
            {
                writer.WriteNumberValue(scope.Add(value, value.Length * BinarySegments.ElementSize<T>()));
                return;
            }
            if (typeof(T) == typeof(byte)) { writer.WriteBase64StringValue((byte[])(object)value); return; }
            writer.WriteStartArray();
            foreach (var item in value) JsonSerializer.Serialize(writer, item, options);
            writer.WriteEndArray();
        }
    }

    private sealed class ReadOnlyMemoryConverter : JsonConverter<ReadOnlyMemory<byte>>
    {
        public override bool HandleNull => true;

        public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType switch
            {
                JsonTokenType.Null => default,
                JsonTokenType.Number => Scope().Segment(reader.GetInt32()),   // a slice of the received buffer: no copy
                JsonTokenType.String => reader.GetBytesFromBase64(),
                _ => throw new JsonException($"expected bytes (segment number or base64), found {reader.TokenType}"),
            };

        public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> value, JsonSerializerOptions options)
        {
            if (BinarySegments.Current is { } scope) writer.WriteNumberValue(scope.Add(value));
            else writer.WriteBase64StringValue(value.Span);
        }
    }

    private sealed class MemoryConverter : JsonConverter<Memory<byte>>
    {
        private readonly ReadOnlyMemoryConverter _inner = new();

        public override Memory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            _inner.Read(ref reader, typeof(ReadOnlyMemory<byte>), options).ToArray();

        public override void Write(Utf8JsonWriter writer, Memory<byte> value, JsonSerializerOptions options) =>
            _inner.Write(writer, value, options);
    }
}
