using AlignCluster.Alignment.Data;

namespace AlignCluster.Alignment.Tests.Data;

/// <summary>Every error class names the file, the 1-based line and (where there is one) the field.</summary>
public class ErrorTests
{
    private const string Good = """{"prompt": "a", "chosen": "x", "rejected": "y"}""";

    private static void AssertError(DataFormatException e, DataErrorKind kind, int line, string? field)
    {
        Assert.Equal(kind, e.Kind);
        Assert.Equal(line, e.Line);
        Assert.Equal(field, e.Field);
        Assert.StartsWith(e.File + (line > 0 ? $":{line}" : ""), e.Message);
        if (field is not null)
            Assert.Contains($"'{field}'", e.Message);
    }

    [Fact]
    public void MalformedJson() =>
        AssertError(
            TempJsonl.Fails(Good, """{"prompt": "b", "chosen": "x" "rejected": "y"}"""),
            DataErrorKind.MalformedJson,
            2,
            null
        );

    [Fact]
    public void UnclosedObjectSaysSoWithoutTheParsersInternalPosition()
    {
        var e = TempJsonl.Fails(Good, "{\"prompt\": \"b\", \"chosen\": \"x\"");
        AssertError(e, DataErrorKind.MalformedJson, 2, null);
        // System.Text.Json's own "LineNumber: 0" would contradict line 2
        Assert.DoesNotContain("LineNumber", e.Message);
    }

    [Fact]
    public void NonObjectLine() => AssertError(TempJsonl.Fails("[1, 2]"), DataErrorKind.MalformedJson, 1, null);

    [Fact]
    public void MissingField() =>
        AssertError(
            TempJsonl.Fails("""{"prompt": "p", "answers": [{"answer": "a", "rank": 1}, {"answer": "b"}]}"""),
            DataErrorKind.MissingField,
            1,
            "answers[1].rank"
        );

    [Fact]
    public void MissingPrompt() =>
        AssertError(
            TempJsonl.Fails(Good, Good.Replace("\"a\"", "\"c\""), """{"chosen": "x", "rejected": "y"}"""),
            DataErrorKind.MissingField,
            3,
            "prompt"
        );

    [Fact]
    public void NullCountsAsMissing() =>
        AssertError(
            TempJsonl.Fails("""{"prompt": "a", "chosen": null, "rejected": "y"}"""),
            DataErrorKind.MissingField,
            1,
            "chosen"
        );

    [Fact]
    public void UnknownLayout() =>
        AssertError(TempJsonl.Fails("""{"prompt": "a", "responses": []}"""), DataErrorKind.MissingField, 1, null);

    [Fact]
    public void GenericCandidateWithoutScoreOrRank() =>
        AssertError(
            TempJsonl.Fails("""{"prompt": "p", "candidates": [{"text": "a", "score": 1}, {"text": "b"}]}"""),
            DataErrorKind.MissingField,
            1,
            "candidates[1].score"
        );

    [Theory]
    [InlineData("""{"prompt": 5, "chosen": "x", "rejected": "y"}""", "prompt")]
    [InlineData("""{"prompt": "p", "completions": [{"response": "a", "score": "high"}]}""", "completions[0].score")]
    [InlineData("""{"prompt": "p", "answers": [{"answer": "a", "rank": 1.5}]}""", "answers[0].rank")]
    [InlineData("""{"prompt": "p", "answers": {"answer": "a"}}""", "answers")]
    [InlineData("""{"prompt": "p", "chosen": [{"role": "assistant"}], "rejected": "y"}""", "chosen[0].content")]
    [InlineData("""{"id": true, "prompt": "p", "chosen": "x", "rejected": "y"}""", "id")]
    public void MistypedField(string line, string field)
    {
        var e = TempJsonl.Fails(line);
        Assert.Equal(field, e.Field);
        Assert.True(e.Kind is DataErrorKind.WrongType or DataErrorKind.MissingField, e.Message);
        if (field != "chosen[0].content")
            Assert.Equal(DataErrorKind.WrongType, e.Kind);
    }

    [Fact]
    public void BadUtf8()
    {
        byte[] good = System.Text.Encoding.UTF8.GetBytes(Good + "\n");
        byte[] bad = [.. "{\"prompt\": \"a"u8, 0xC3, 0x28, .. "\", \"chosen\": \"x\", \"rejected\": \"y\"}\n"u8];
        var path = TempJsonl.WriteBytes([.. good, .. bad]);
        var e = Assert.Throws<DataFormatException>(() => PreferenceReader.ReadAll(path));
        AssertError(e, DataErrorKind.BadUtf8, 2, null);
        Assert.Contains("byte 14", e.Message); // {"prompt": "a is 13 bytes; the bad sequence starts at the 14th
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("\"NaN\"")]
    [InlineData("1e999")]
    public void NonFiniteScore(string literal)
    {
        var e = TempJsonl.Fails(
            $$"""{"prompt": "p", "completions": [{"response": "a", "score": 1}, {"response": "b", "score": {{literal}}}]}"""
        );
        AssertError(e, DataErrorKind.NonFiniteNumber, 1, "completions[1].score");
    }

    [Fact]
    public void NanInsideAStringIsJustText()
    {
        var (prompts, _) = TempJsonl.Read(
            """{"prompt": "is NaN a number? Infinity!", "chosen": "x", "rejected": "y"}"""
        );
        Assert.Equal("is NaN a number? Infinity!", Assert.Single(prompts).Prompt);
    }

    [Fact]
    public void DuplicateExplicitIds()
    {
        var e = TempJsonl.Fails(
            """{"id": "a", "prompt": "p", "chosen": "x", "rejected": "y"}""",
            "",
            """{"id": "a", "prompt": "q", "chosen": "x", "rejected": "y"}"""
        );
        AssertError(e, DataErrorKind.DuplicatePromptId, 3, "id");
        Assert.Contains("line 1", e.Message);
    }

    [Fact]
    public void DuplicateDerivedIds() =>
        AssertError(TempJsonl.Fails(Good, Good), DataErrorKind.DuplicatePromptId, 2, "prompt");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EmptyFile(bool blankLines)
    {
        var e = TempJsonl.Fails(blankLines ? ["", "   "] : []);
        AssertError(e, DataErrorKind.EmptyFile, 0, null);
        Assert.Contains("no records", e.Message);
    }

    [Fact]
    public void ForcedFormatMismatchNamesTheMissingField()
    {
        string path = TempJsonl.Write(
            """{"prompt": "p", "answers": [{"answer": "a", "rank": 1}, {"answer": "b", "rank": 2}]}"""
        );
        var e = Assert.Throws<DataFormatException>(() =>
            PreferenceReader.ReadAll(path, PreferenceFormat.RatedCompletions)
        );
        AssertError(e, DataErrorKind.MissingField, 1, "completions");
    }
}
