using System.Text.Json;

namespace AlignCluster.Alignment.Data;

/// <summary>
/// Typed access to the fields of one JSONL record; every failure becomes a <see cref="DataFormatException"/>
/// naming file, line and the JSON path of the field.
/// </summary>
internal readonly struct RecordFields(string file, int line)
{
    public DataFormatException Error(DataErrorKind kind, string? field, string detail) =>
        new(kind, file, line, field, detail);

    public static string Join(string? parent, string name) => parent is null ? name : $"{parent}.{name}";

    public bool Has(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public JsonElement Required(JsonElement obj, string name, string? parent = null)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            throw Error(DataErrorKind.MissingField, Join(parent, name), "required field is missing");
        return value;
    }

    public string RequiredString(JsonElement obj, string name, string? parent = null) =>
        AsString(Required(obj, name, parent), Join(parent, name));

    public string AsString(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Error(DataErrorKind.WrongType, path, $"expected a string, got {Describe(value)}");

    public JsonElement RequiredArray(JsonElement obj, string name, string? parent = null)
    {
        var value = Required(obj, name, parent);
        return value.ValueKind == JsonValueKind.Array
            ? value
            : throw Error(DataErrorKind.WrongType, Join(parent, name), $"expected an array, got {Describe(value)}");
    }

    public JsonElement AsObject(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Object
            ? value
            : throw Error(DataErrorKind.WrongType, path, $"expected an object, got {Describe(value)}");

    /// <summary>A finite number, or null when absent. NaN/±Infinity (bare or quoted) are reported as such.</summary>
    public double? OptionalFiniteNumber(JsonElement obj, string name, string? parent = null)
    {
        if (!Has(obj, name))
            return null;
        var value = obj.GetProperty(name);
        string path = Join(parent, name);
        if (value.ValueKind == JsonValueKind.String && value.GetString() is "NaN" or "Infinity" or "-Infinity")
            throw Error(DataErrorKind.NonFiniteNumber, path, $"{value.GetString()} is not a finite number");
        if (value.ValueKind != JsonValueKind.Number)
            throw Error(DataErrorKind.WrongType, path, $"expected a number, got {Describe(value)}");
        // TryGetDouble fails for literals outside the double range (e.g. 1e999), which would parse as infinity.
        if (!value.TryGetDouble(out double number) || !double.IsFinite(number))
            throw Error(DataErrorKind.NonFiniteNumber, path, $"{value.GetRawText()} is not a finite number");
        return number;
    }

    /// <summary>An integer, or null when absent. 2.0 is accepted; 2.5 is not.</summary>
    public int? OptionalInteger(JsonElement obj, string name, string? parent = null)
    {
        double? number = OptionalFiniteNumber(obj, name, parent);
        if (number is null)
            return null;
        if (number != Math.Floor(number.Value) || Math.Abs(number.Value) > int.MaxValue)
            throw Error(DataErrorKind.WrongType, Join(parent, name), $"expected an integer, got {number}");
        return (int)number.Value;
    }

    /// <summary>
    /// A prompt or response given either as a string or as a TRL conversational list of
    /// <c>{"role": ..., "content": ...}</c> messages.
    /// </summary>
    public (string? Text, IReadOnlyList<ChatMessage>? Messages) TextOrMessages(JsonElement value, string path)
    {
        if (value.ValueKind == JsonValueKind.String)
            return (value.GetString()!, null);
        if (value.ValueKind != JsonValueKind.Array)
            throw Error(
                DataErrorKind.WrongType,
                path,
                $"expected a string or a list of messages, got {Describe(value)}"
            );
        var messages = new List<ChatMessage>();
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            string itemPath = $"{path}[{i++}]";
            var message = AsObject(item, itemPath);
            messages.Add(
                new ChatMessage(RequiredString(message, "role", itemPath), RequiredString(message, "content", itemPath))
            );
        }
        if (messages.Count == 0)
            throw Error(DataErrorKind.InvalidValue, path, "the message list is empty");
        return (null, messages);
    }

    public static string Describe(JsonElement value) =>
        value.ValueKind switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => "null",
        };
}
