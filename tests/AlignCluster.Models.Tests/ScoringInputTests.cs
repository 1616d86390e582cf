using AlignCluster.Models.Tokenization;

namespace AlignCluster.Models.Tests;

public sealed class ScoringInputTests
{
    [Fact]
    public void ParsesPlainConversationalAndMessagesRows()
    {
        var plain = ScoringInput.ParseLine("""{"prompt":"2+2?","response":"4"}""", "f.jsonl", 1);
        Assert.Equal(("2+2?", "4"), (plain.PromptText, plain.Response));

        var chat = ScoringInput.ParseLine(
            """{"prompt":[{"role":"user","content":"hi"}],"response":[{"role":"assistant","content":"hello"}]}""",
            "f.jsonl",
            2
        );
        Assert.Equal([new ChatMessage("user", "hi")], chat.PromptMessages!);
        Assert.Equal("hello", chat.Response);

        var messages = ScoringInput.ParseLine(
            """{"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"},{"role":"assistant","content":"a"}]}""",
            "f.jsonl",
            3
        );
        Assert.Equal(2, messages.PromptMessages!.Count);
        Assert.Equal("a", messages.Response);
    }

    [Theory]
    [InlineData("""{"prompt":"x"}""", "f.jsonl:7: missing field 'response'")]
    [InlineData("""{"prompt":"x","response":5}""", "f.jsonl:7: 'response' must be a string")]
    [InlineData("""{"prompt":[{"role":"user"}],"response":"y"}""", "f.jsonl:7: prompt[0] must be")]
    [InlineData(
        """{"messages":[{"role":"user","content":"u"}]}""",
        "f.jsonl:7: 'messages' must end with an assistant message"
    )]
    [InlineData("not json", "f.jsonl:7: not valid JSON")]
    public void BadRowsNameFileAndLine(string line, string expected)
    {
        var e = Assert.Throws<FormatException>(() => ScoringInput.ParseLine(line, "f.jsonl", 7));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void JsonlScoringWritesOneLinePerRowMatchingDirectScores()
    {
        using var model = TinyModels.Create("gpt2", seed: 41, format: ChatFormat.ChatMl);
        string input = """
            {"prompt":"hello","response":"world"}

            {"prompt":[{"role":"user","content":"a b c"}],"response":"d"}
            """;
        var output = new StringWriter();
        int rows = ScoringInput.ScoreJsonl(model, new StringReader(input), output, "in.jsonl", batchSize: 1);
        Assert.Equal(2, rows);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var direct = model.Score([("hello", "world")])[0];
        var first = System.Text.Json.JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal(direct.Sum, first.GetProperty("sum").GetDouble(), 6);
        Assert.Equal(direct.Tokens, first.GetProperty("tokens").GetInt32());
        Assert.Equal(6, direct.Tokens); // the 5 byte tokens of "world" + <|im_end|>
    }
}
