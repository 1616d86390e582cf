using System.Text;
using System.Text.Json;
using AlignCluster.Runtime.Serialization;

namespace AlignCluster.Runtime.Tests.Core;

/// <summary>The int/long shortcut of the wire serializer must write and accept exactly what System.Text.Json does.</summary>
public class IntegerJsonTests
{
    private static readonly WireSerializer Serializer = new(new TypeAllowlist([]), new NoGrainReferences());

    [Theory]
    [InlineData(0L), InlineData(1L), InlineData(-1L), InlineData(42L), InlineData(int.MaxValue), InlineData(int.MinValue),
     InlineData(long.MaxValue), InlineData(long.MinValue)]
    public void Integers_are_written_as_System_Text_Json_writes_them_and_read_back(long value)
    {
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(value), Serializer.Serialize(value, typeof(long)).ToArray());
        Assert.Equal(value, Serializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(value), typeof(long), "test"));
        if (value is >= int.MinValue and <= int.MaxValue)
        {
            Assert.Equal(JsonSerializer.SerializeToUtf8Bytes((int)value), Serializer.Serialize((int)value, typeof(int)).ToArray());
            Assert.Equal((int)value, Serializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes((int)value), typeof(int), "test"));
        }
    }

    [Theory]
    [InlineData(" 7"), InlineData("7 "), InlineData("07"), InlineData("+7"), InlineData("-0"), InlineData("7.0"), InlineData("1e2"),
     InlineData("\"7\""), InlineData(""), InlineData("2147483648"), InlineData("99999999999999999999")]
    public void Other_texts_are_accepted_or_refused_as_System_Text_Json_does(string text)
    {
        foreach (var type in new[] { typeof(int), typeof(long) })
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            object? expected;
            try { expected = JsonSerializer.Deserialize(bytes, type); }
            catch (JsonException)
            {
                Assert.Throws<SerializationException>(() => Serializer.Deserialize(bytes, type, "test"));
                continue;
            }
            Assert.Equal(expected, Serializer.Deserialize(bytes, type, "test"));
        }
    }
}
