using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime.Serialization;

/// <summary>
/// Encodes arguments, results and persistent state. <c>byte[]</c> and <c>ReadOnlyMemory&lt;byte&gt;</c> values are
/// their raw bytes; everything else is UTF-8 JSON of an allowlisted type (<see cref="TypeAllowlist"/>), enforced
/// again inside System.Text.Json so that no disallowed type is ever constructed while reading. Arrays of numbers and
/// byte buffers nested in a value leave the JSON as raw segments (<see cref="BinaryContainer"/>): no base64, no
/// decimal text. Grain references are encoded as their grain id and interface and rebuilt through
/// <see cref="IGrainReferenceFactory"/>.
/// </summary>
internal sealed class WireSerializer
{
    private readonly JsonSerializerOptions _json;

    public WireSerializer(TypeAllowlist allowlist, IGrainReferenceFactory references)
    {
        Allowlist = allowlist;
        var resolver = new DefaultJsonTypeInfoResolver();
        resolver.Modifiers.Add(info =>
        {
            if (!allowlist.IsAllowed(info.Type) && !IsJsonBuiltIn(info.Type))
                throw new NotSupportedException($"Type {TypeAllowlist.Describe(info.Type)} may not be serialized: {allowlist.Explain(info.Type)}");
        });
        _json = new JsonSerializerOptions
        {
            TypeInfoResolver = resolver,
            IncludeFields = true,
            Converters = { new GrainReferenceConverterFactory(references), new BinaryArrayConverterFactory() },
            MaxDepth = 64,
        };
    }

    public TypeAllowlist Allowlist { get; }

    public static bool IsRawBytes(Type type) => type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) || type == typeof(Memory<byte>);

    /// <summary>Encodes <paramref name="value"/> declared as <paramref name="type"/>.</summary>
    public ReadOnlyMemory<byte> Serialize(object? value, Type type)
    {
        if (type == typeof(byte[])) return (byte[]?)value ?? [];
        if (type == typeof(ReadOnlyMemory<byte>)) return value is ReadOnlyMemory<byte> m ? m : default;
        if (type == typeof(Memory<byte>)) return value is Memory<byte> mm ? mm : default;
        if (IntegerJson.TryWrite(value, type, out var integer)) return integer;
        var segments = BinarySegments.Begin();
        try
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(value, type, _json);
            return segments.Count == 0 ? json : BinaryContainer.Pack(json, segments);
        }
        finally { segments.End(); }
    }

    /// <summary>Decodes bytes as <paramref name="type"/>; throws <see cref="SerializationException"/> naming <paramref name="where"/>.</summary>
    public object? Deserialize(ReadOnlyMemory<byte> data, Type type, string where)
    {
        if (type == typeof(byte[])) return data.ToArray();
        if (type == typeof(ReadOnlyMemory<byte>)) return data;
        if (type == typeof(Memory<byte>)) return new Memory<byte>(data.ToArray());
        if (IntegerJson.TryRead(data.Span, type, out var integer)) return integer;
        BinarySegments? segments = null;
        try
        {
            if (!BinaryContainer.TryUnpack(data, out var json, out var raw)) return JsonSerializer.Deserialize(data.Span, type, _json);
            segments = BinarySegments.Begin(raw);
            return JsonSerializer.Deserialize(json.Span, type, _json);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new SerializationException($"{where}: cannot read {TypeAllowlist.Describe(type)}: {e.Message}", e);
        }
        finally { segments?.End(); }
    }

    // System.Text.Json asks for object/JsonElement metadata while building converters; never for values we refuse.
    private static bool IsJsonBuiltIn(Type t) => t == typeof(object) || t == typeof(JsonElement);

    private sealed class GrainReferenceConverterFactory(IGrainReferenceFactory references) : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) => typeToConvert.IsInterface && typeof(IGrain).IsAssignableFrom(typeToConvert);

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
            (JsonConverter)Activator.CreateInstance(typeof(GrainReferenceConverter<>).MakeGenericType(typeToConvert), references)!;
    }

    private sealed class GrainReferenceConverter<T>(IGrainReferenceFactory references) : JsonConverter<T> where T : class
    {
        public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null) return null;
            var text = reader.GetString() ?? throw new JsonException("grain reference must be a string 'type/key'");
            return (T)references.GetReference(typeof(T), GrainId.Parse(text));
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(((IAddressable)value).GetGrainId().ToString());
    }
}

/// <summary>Rebuilds grain references met while deserializing.</summary>
internal interface IGrainReferenceFactory
{
    object GetReference(Type grainInterface, GrainId grainId);
}

/// <summary>Bytes could not be decoded as the expected type.</summary>
public sealed class SerializationException(string message, Exception? inner = null) : Exception(message, inner);
