using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AlignCluster.Models.Tokenization;

namespace AlignCluster.Models.Tests;

public sealed class TokenizerTests
{
    /// <summary>
    /// A Llama-2-shaped tokenizer.json: &lt;unk&gt;=0, &lt;s&gt;=1, &lt;/s&gt;=2, byte tokens
    /// &lt;0x00&gt;..&lt;0xFF&gt; = 3..258,
    /// then ▁ h e l o = 259..263 and the merges ▁h, ll, ▁he, llo, ▁hello = 264..268 (ranks 0..4).
    /// </summary>
    private static string SentencePieceJson(bool metaspace)
    {
        var vocab = new JsonObject
        {
            ["<unk>"] = 0,
            ["<s>"] = 1,
            ["</s>"] = 2,
        };
        for (int b = 0; b < 256; b++)
            vocab[$"<0x{b:X2}>"] = 3 + b;
        string[] pieces = ["▁", "h", "e", "l", "o", "▁h", "ll", "▁he", "llo", "▁hello"];
        for (int i = 0; i < pieces.Length; i++)
            vocab[pieces[i]] = 259 + i;
        JsonNode? normalizer = metaspace
            ? null
            : JsonNode.Parse(
                """
                {"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}
                """
            );
        JsonNode? preTokenizer = metaspace
            ? JsonNode.Parse("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}""")
            : null;
        JsonNode decoder = JsonNode.Parse(
            metaspace
                ? """{"type":"Sequence","decoders":[{"type":"ByteFallback"},{"type":"Metaspace","replacement":"▁","prepend_scheme":"first"}]}"""
                : """{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}"""
        )!;
        var root = new JsonObject
        {
            ["added_tokens"] = JsonNode.Parse(
                """
                [{"id":0,"content":"<unk>","special":true},{"id":1,"content":"<s>","special":true},{"id":2,"content":"</s>","special":true}]
                """
            ),
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = JsonNode.Parse(
                """
                {"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}]}
                """
            ),
            ["decoder"] = decoder,
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["unk_token"] = "<unk>",
                ["fuse_unk"] = true,
                ["byte_fallback"] = true,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray("▁ h", "l l", "▁h e", "ll o", "▁he llo"),
            },
        };
        return root.ToJsonString();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SentencePieceStyleBpeMergesAndFallsBackToBytes(bool metaspace)
    {
        var t = TokenizerJson.Parse(SentencePieceJson(metaspace));
        // "hello" → "▁hello" → ▁ h e l l o → ▁h → ll → ▁he → llo → ▁hello (ranks 0..4) = 268; BOS 1 from the template.
        Assert.Equal([1, 268], t.Encode("hello", addSpecialTokens: true));
        Assert.Equal([268, 268], t.Encode("hello hello"));
        // "hé": é is not in the vocabulary → its UTF-8 bytes C3 A9 → ids 3+0xC3=198, 3+0xA9=172.
        Assert.Equal([264, 198, 172], t.Encode("hé"));
        Assert.Equal("hé hello", t.Decode([1, 264, 198, 172, 268, 2], skipSpecialTokens: true));
        // An added token splits the text; the next segment is not the first, so with Metaspace "first" it gets no ▁.
        Assert.Equal(metaspace ? [268, 2, 260] : [268, 2, 264], t.Encode("hello</s>h"));
    }

    [Fact]
    public void Llama3PatternGroupsDigitsInThreesAndKeepsNewlinesWithPunctuation()
    {
        var split = new RegexSplit(new Regex(SplitPatterns.Llama3));
        var pieces = new List<string>();
        split.Split("Hello world!!\n\n12345 I'M ok", isFirst: true, pieces);
        // By the pattern's alternatives: letters with one leading non-letter; "!!\n\n" is punctuation + trailing
        // newlines;
        // digits in groups of at most three; "'M" is a contraction case-insensitively.
        Assert.Equal(["Hello", " world", "!!\n\n", "123", "45", " I", "'M", " ok"], pieces);
    }

    [Fact]
    public void Qwen2PatternSplitsEveryDigit()
    {
        var split = new RegexSplit(new Regex(SplitPatterns.Qwen2));
        var pieces = new List<string>();
        split.Split("x=2024;\n  y", isFirst: true, pieces);
        // "=" is a one-char prefix only before letters, so "x" then "=" ... "2","0","2","4", ";\n", " " before " y"
        Assert.Equal(["x", "=", "2", "0", "2", "4", ";\n", " ", " y"], pieces);
    }

    [Fact]
    public void SplitTreatsAstralLettersAsLetters()
    {
        var pieces = new List<string>();
        new RegexSplit(new Regex(SplitPatterns.Gpt2)).Split("a 𝐀𝐁c!", isFirst: true, pieces);
        Assert.Equal(["a", " 𝐀𝐁c", "!"], pieces); // U+1D400/1D401 are Lu: part of the letter run
    }

    /// <summary>The example of HF tokenizers' SplitDelimiterBehavior documentation: "the-final--countdown" split on
    /// "-".</summary>
    [Theory]
    [InlineData(SplitBehavior.Removed, false, "the|final|countdown")]
    [InlineData(SplitBehavior.Isolated, false, "the|-|final|-|-|countdown")]
    [InlineData(SplitBehavior.MergedWithPrevious, false, "the-|final-|-|countdown")]
    [InlineData(SplitBehavior.MergedWithNext, false, "the|-final|-|-countdown")]
    [InlineData(SplitBehavior.Contiguous, false, "the|-|final|--|countdown")]
    [InlineData(SplitBehavior.Removed, true, "-|-|-")] // inverted: the words are the delimiters
    public void SplitBehaviorsGroupDelimitersAsHuggingFaceDocuments(
        SplitBehavior behavior,
        bool invert,
        string expected
    )
    {
        var pieces = new List<string>();
        new RegexSplit(new Regex("-"), behavior, invert).Split("the-final--countdown", isFirst: true, pieces);
        Assert.Equal(expected, string.Join("|", pieces));
    }

    [Theory]
    [InlineData("\"\"", null)] // GPT-2's and Qwen's files: an empty affix is no affix
    [InlineData("null", null)]
    [InlineData("\"##\"", "model.continuing_subword_prefix: \"##\" is not supported")]
    public void SubwordAffixesMayBeEmptyButNotSet(string prefix, string? error)
    {
        string json =
            $$$"""{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"],"continuing_subword_prefix":{{{prefix}}},"end_of_word_suffix":""}}""";
        if (error is null)
            Assert.Equal([2], TokenizerJson.Parse(json).Encode("ab"));
        else
            Assert.Contains(
                error,
                Assert.Throws<TokenizerException>(() => TokenizerJson.Parse(json, "t.json")).Message
            );
    }

    [Fact]
    public void IgnoreMergesUsesWholeWordFromVocabulary()
    {
        var vocab = new Dictionary<string, int>
        {
            ["a"] = 0,
            ["b"] = 1,
            ["ab"] = 2,
            ["abb"] = 3,
            ["bb"] = 4,
        };
        var merges = new List<(string, string)> { ("b", "b"), ("a", "b") };
        var plain = new BpeModel(vocab, merges);
        var ignoring = new BpeModel(vocab, merges) { IgnoreMerges = true };
        var a = new List<int>();
        plain.Tokenize("abb", a);
        var b = new List<int>();
        ignoring.Tokenize("abb", b);
        Assert.Equal([0, 4], a); // merges: (b,b) rank 0 first → a bb; no (a, bb) merge
        Assert.Equal([3], b); // "abb" is in the vocabulary
    }

    [Fact]
    public void ChatTemplatesFormatLikeTheirJinjaOriginals()
    {
        var msgs = new[] { new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hi") };
        Assert.Equal(
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            new ChatTemplate(ChatFormat.ChatMl).Prompt(msgs)
        );
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            new ChatTemplate(ChatFormat.Llama3, "<|eot_id|>", "<|begin_of_text|>").Prompt(msgs)
        );
        Assert.Equal("Hi", new ChatTemplate(ChatFormat.Plain, "</s>").Prompt("Hi"));
        Assert.Equal("</s>", new ChatTemplate(ChatFormat.Plain, "</s>").EndOfTurn);
        Assert.Equal(
            ChatFormat.ChatMl,
            ChatTemplate.Detect("{% for message in messages %}{{'<|im_start|>' + message['role'] }}")
        );
        Assert.Equal(ChatFormat.Llama3, ChatTemplate.Detect("{{ '<|start_header_id|>' + message['role'] }}"));
        Assert.Equal(ChatFormat.Plain, ChatTemplate.Detect(null));
        // Mistral-7B-Instruct's template: "{{ bos_token }}…'[INST] ' + message['content'] + '
        // [/INST]'…message['content'] + eos_token"
        var inst = new ChatTemplate(ChatFormat.Inst, "</s>", "<s>");
        Assert.Equal("<s>[INST] Be brief.\n\nHi [/INST]", inst.Prompt(msgs));
        Assert.Equal(
            "<s>[INST] a [/INST] b</s><s>[INST] c [/INST]",
            inst.Prompt([new ChatMessage("user", "a"), new ChatMessage("assistant", "b"), new ChatMessage("user", "c")])
        );
        Assert.Equal("</s>", inst.EndOfTurn);
        Assert.Equal(
            ChatFormat.Inst,
            ChatTemplate.Detect(
                "{{ bos_token }}{% for message in messages %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
            )
        );
    }

    [Theory]
    [InlineData("{ not json", "not valid JSON")]
    [InlineData("""{"model":{"type":"Unigram","vocab":[]}}""", "model.type: 'Unigram' is not supported")]
    [InlineData("""{"added_tokens":[]}""", "missing field 'model'")]
    [InlineData(
        """{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}}""",
        "model.merges: merge 0 'a b' uses a token missing"
    )]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":["a"]}}""", "model.merges[0]")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":"x"}}}""", "model.vocab['a']")]
    [InlineData(
        """{"model":{"type":"BPE","vocab":{}},"pre_tokenizer":{"type":"BertPreTokenizer"}}""",
        "pre_tokenizer: pre-tokenizer type 'BertPreTokenizer'"
    )]
    [InlineData(
        """{"model":{"type":"BPE","vocab":{}},"normalizer":{"type":"Sequence","normalizers":[{"type":"Strip"}]}}""",
        "normalizer.normalizers[0]"
    )]
    public void MalformedTokenizerJsonGivesAClearError(string json, string expected)
    {
        var e = Assert.Throws<TokenizerException>(() => TokenizerJson.Parse(json, "dir/tokenizer.json"));
        Assert.Contains("dir/tokenizer.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void UnknownCharacterWithoutFallbackIsAClearError()
    {
        var t = TokenizerJson.Parse("""{"model":{"type":"BPE","vocab":{"a":0}}}""");
        Assert.Contains("U+0062", Assert.Throws<TokenizerException>(() => t.Encode("ab")).Message);
        Assert.Contains("token id 5", Assert.Throws<TokenizerException>(() => t.Decode([5])).Message);
    }
}
