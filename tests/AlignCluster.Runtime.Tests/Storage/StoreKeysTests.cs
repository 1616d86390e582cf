using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Tests.Storage;

public class StoreKeysTests
{
    /// <summary>Expected encodings worked out by hand from the rules in StoreKeys' remarks (UTF-8 bytes from the Unicode tables).</summary>
    [Theory]
    [InlineData("abc-1_2.x", false, "abc-1_2.x")]
    [InlineData("Grain/A b", false, "Grain~2FA~20b")]
    [InlineData("Grain/A b", true, "^grain~2F^a~20b")]
    [InlineData("é", false, "~C3~A9")]          // U+00E9 = C3 A9
    [InlineData("😀", false, "~F0~9F~98~80")]   // U+1F600 = F0 9F 98 80
    [InlineData(".", false, "~2E")]
    [InlineData("..", false, "~2E~2E")]
    [InlineData(".a.b.", false, "~2Ea.b~2E")]
    [InlineData("~^%", true, "~7E~5E~25")]
    public void Encode_matches_hand_encoded_names(string name, bool foldCase, string expected)
    {
        Assert.Equal(expected, StoreKeys.Encode(name, foldCase));
        Assert.Equal(name, StoreKeys.TryDecode(expected));
    }

    [Theory]
    [InlineData("a.")]
    [InlineData(".")]
    [InlineData("..x")]
    [InlineData("Ab/c")]
    [InlineData("")]
    public void An_encoded_prefix_is_a_prefix_of_every_encoded_key_that_starts_with_it(string prefix)
    {
        foreach (var suffix in new[] { "", ".", "x", "x.", "/é", "..." })
            foreach (var foldCase in new[] { false, true })
            {
                var key = prefix + suffix;
                if (key.Length == 0) continue;
                Assert.StartsWith(StoreKeys.EncodePrefix(prefix, foldCase), StoreKeys.Encode(key, foldCase), StringComparison.Ordinal);
            }
    }

    [Fact]
    public void Long_names_are_shortened_with_a_hash_and_stay_distinct()
    {
        var a = new string('a', 300);
        var b = new string('a', 299) + "b";
        var ea = StoreKeys.EncodeBounded(a, false, 200);
        Assert.Equal(200, ea.Length);
        Assert.True(StoreKeys.IsShortened(ea));
        Assert.NotEqual(ea, StoreKeys.EncodeBounded(b, false, 200));
        Assert.StartsWith(StoreKeys.EncodePrefix(new string('a', 250), false)[..StoreKeys.ShortenedPrefixLength(200)], ea, StringComparison.Ordinal);
        Assert.False(StoreKeys.IsShortened(StoreKeys.EncodeBounded("short", false, 200)));
    }

    [Theory]
    [InlineData("~2")]
    [InlineData("~zz")]
    [InlineData("^A")]
    [InlineData("a/b")]
    [InlineData("~C3")] // a lone lead byte is not UTF-8
    public void Malformed_encodings_do_not_decode(string encoded) => Assert.Null(StoreKeys.TryDecode(encoded));
}

public class StateStoreFactoryTests
{
    [Fact]
    public void Memory_and_local_specs_build_their_stores()
    {
        Assert.IsType<MemoryStateStore>(StateStoreFactory.Create("memory"));
        using var dir = new TempDirectory();
        var local = Assert.IsType<LocalDirectoryStateStore>(StateStoreFactory.Create($"local:{dir.Path}"));
        Assert.Equal(Path.GetFullPath(dir.Path), local.Root);
        Assert.Equal($"local:{local.Root}", local.Name);
    }

    [Theory]
    [InlineData("local:", "local:DIR")]
    [InlineData("s3:bucket", "unknown storage 's3:bucket'")]
    [InlineData("memory:x", "unknown storage")]
    public void Bad_specs_say_what_is_expected(string spec, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => StateStoreFactory.Create(spec));
        Assert.Contains(expected, ex.Message);
    }
}
