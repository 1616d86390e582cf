using System.Text.Json;
using AlignCluster.Alignment.Data;

namespace AlignCluster.Alignment.Tests.Data;

/// <summary>Each supported layout parses into the expected candidates and chosen index (expected values by
/// hand).</summary>
public class FormatTests
{
    [Fact]
    public void TrlStringPairPutsChosenFirst()
    {
        var (prompts, report) = TempJsonl.Read("""{"prompt": "2+2?", "chosen": "4", "rejected": "5"}""");
        var p = Assert.Single(prompts);
        Assert.Equal("2+2?", p.Prompt);
        Assert.Equal(["4", "5"], p.Candidates.Select(c => c.Text));
        Assert.Equal(0, p.ChosenIndex);
        Assert.Equal(1, report.Prompts);
    }

    [Fact]
    public void TrlConversationalPairKeepsMessages()
    {
        var (prompts, _) = TempJsonl.Read(
            """{"prompt": [{"role": "user", "content": "hi"}], "chosen": [{"role": "assistant", "content": "hello"}], "rejected": [{"role": "assistant", "content": "go away"}]}"""
        );
        var p = Assert.Single(prompts);
        Assert.Null(p.Prompt);
        Assert.Equal([new ChatMessage("user", "hi")], p.PromptMessages!);
        Assert.Equal("hello", p.Chosen.Messages![0].Content);
        Assert.Equal("go away", p.Candidates[1].Messages![0].Content);
    }

    [Fact]
    public void TrlImplicitPromptIsTheSharedPrefix()
    {
        var (prompts, _) = TempJsonl.Read(
            """{"chosen": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "good"}], "rejected": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "bad"}]}"""
        );
        var p = Assert.Single(prompts);
        Assert.Equal([new ChatMessage("user", "q")], p.PromptMessages!);
        Assert.Equal([new ChatMessage("assistant", "good")], p.Chosen.Messages!);
    }

    [Fact]
    public void NectarRankOneIsChosen()
    {
        var (prompts, _) = TempJsonl.Read(
            """{"prompt": "p", "answers": [{"answer": "a", "rank": 3}, {"answer": "b", "rank": 1}, {"answer": "c", "rank": 2}]}"""
        );
        var p = Assert.Single(prompts);
        Assert.Equal(1, p.ChosenIndex);
        Assert.Equal("b", p.Chosen.Text);
        Assert.Equal([0, 2], p.RejectedIndices);
    }

    [Fact]
    public void RatedTopScoreIsChosen()
    {
        var (prompts, _) = TempJsonl.Read(
            """{"prompt": "p", "completions": [{"response": "a", "score": 6.5}, {"response": "b", "score": 2}, {"response": "c", "score": 9}]}"""
        );
        Assert.Equal(2, Assert.Single(prompts).ChosenIndex);
    }

    [Fact]
    public void GenericUsesRankWhenAllHaveRankElseScore()
    {
        var (prompts, _) = TempJsonl.Read(
            """{"id": "r", "prompt": "p", "candidates": [{"text": "a", "rank": 2, "score": 10}, {"text": "b", "rank": 1, "score": 0}]}""",
            """{"id": "s", "prompt": "p", "candidates": [{"text": "a", "score": 1}, {"text": "b", "score": 3}, {"text": "c", "rank": 1, "score": 2}]}"""
        );
        Assert.Equal(1, prompts[0].ChosenIndex); // ranks decide: b has rank 1 although a scores higher
        Assert.Equal(1, prompts[1].ChosenIndex); // c lacks nothing but a/b lack rank, so scores decide: b (3)
    }

    [Fact]
    public void TiesGoToFirstListedAndAreCounted()
    {
        var (prompts, report) = TempJsonl.Read(
            """{"prompt": "p", "completions": [{"response": "a", "score": 1}, {"response": "b", "score": 8}, {"response": "c", "score": 8}]}"""
        );
        Assert.Equal(1, Assert.Single(prompts).ChosenIndex);
        Assert.Equal(1, report.TiedTopChoices);
    }

    [Fact]
    public void DuplicatesMergeKeepingFirstPositionAndBestRating()
    {
        var (prompts, report) = TempJsonl.Read(
            """{"prompt": "p", "completions": [{"response": "x", "score": 1}, {"response": "y", "score": 5}, {"response": "x", "score": 7}]}"""
        );
        var p = Assert.Single(prompts);
        Assert.Equal(["x", "y"], p.Candidates.Select(c => c.Text));
        Assert.Equal(7, p.Candidates[0].Score);
        Assert.Equal(0, p.ChosenIndex);
        Assert.Equal(1, report.DuplicateCandidatesRemoved);
    }

    [Fact]
    public void PromptsWithFewerThanTwoDistinctCandidatesAreSkippedAndReported()
    {
        var (prompts, report) = TempJsonl.Read(
            """{"prompt": "a", "chosen": "same", "rejected": "same"}""",
            "",
            """{"prompt": "b", "answers": [{"answer": "only", "rank": 1}]}""",
            """{"prompt": "c", "chosen": "x", "rejected": "y"}"""
        );
        Assert.Equal("c", Assert.Single(prompts).Prompt);
        Assert.Equal(3, report.Records);
        Assert.Equal(2, report.SkippedTooFewCandidates);
        Assert.Equal([1, 3], report.SkippedLines);
        Assert.Contains("2 skipped", report.ToString());
        Assert.Contains("skipped lines: 1, 3", report.ToString());
    }

    [Fact]
    public void IdsAreExplicitOrDerivedFromThePrompt()
    {
        var (prompts, _) = TempJsonl.Read(
            """{"id": 17, "prompt": "a", "chosen": "x", "rejected": "y"}""",
            """{"prompt": "b", "chosen": "x", "rejected": "y"}"""
        );
        Assert.Equal("17", prompts[0].Id);
        // sha256("b") = 3e23e8160039594a33894f6564e1b134..., by `printf b | sha256sum`
        Assert.Equal("sha256:3e23e8160039594a", prompts[1].Id);
    }

    [Fact]
    public void CrLfLinesAndBomAreAccepted()
    {
        string path = TempJsonl.WriteBytes([
            0xEF,
            0xBB,
            0xBF,
            .. System.Text.Encoding.UTF8.GetBytes(
                "{\"prompt\": \"a\", \"chosen\": \"x\", \"rejected\": \"y\"}\r\n{\"prompt\": \"b\", \"chosen\": "
                    + "\"x\", \"rejected\": \"y\"}"
            ),
        ]);
        Assert.Equal(2, PreferenceReader.ReadAll(path).Prompts.Count);
    }

    [Fact]
    public void LinesLongerThanTheReadBufferAndAMissingFinalNewline()
    {
        // 200 kB of text spans several 64 KiB reads; the last record has no terminating newline.
        string big = new('z', 200_000);
        string path = TempJsonl.WriteBytes(
            System.Text.Encoding.UTF8.GetBytes(
                $"{{\"prompt\": \"a\", \"chosen\": \"{big}\", \"rejected\": \"y\"}}\n{{\"prompt\": \"b\", "
                    + $"\"chosen\": \"x\", \"rejected\": \"{big}\"}}"
            )
        );
        var (prompts, report) = PreferenceReader.ReadAll(path);
        Assert.Equal(2, report.Prompts);
        Assert.Equal(big, prompts[0].Chosen.Text);
        Assert.Equal(big, prompts[1].Candidates[1].Text);
    }

    [Fact]
    public void PromptCandidatesRoundTripThroughJson()
    {
        var (prompts, _) = TempJsonl.Read(
            """{"id": "q", "prompt": "p", "answers": [{"answer": "a", "rank": 2}, {"answer": "b", "rank": 1}]}"""
        );
        string json = JsonSerializer.Serialize(prompts[0]);
        Assert.DoesNotContain("RejectedIndices", json); // derived properties stay out of the stored form
        var back = JsonSerializer.Deserialize<PromptCandidates>(json)!;
        Assert.Equal(prompts[0].Id, back.Id);
        Assert.Equal(prompts[0].ChosenIndex, back.ChosenIndex);
        Assert.Equal(prompts[0].Candidates, back.Candidates);
    }

    [Fact]
    public void ReadingIsLazy()
    {
        // The second line is malformed: a streaming reader hands out the first prompt before reaching it.
        string path = TempJsonl.Write("""{"prompt": "a", "chosen": "x", "rejected": "y"}""", "{oops");
        using var e = PreferenceReader.ReadFile(path, new ReadReport()).GetEnumerator();
        Assert.True(e.MoveNext());
        Assert.Throws<DataFormatException>(() => e.MoveNext());
    }
}
