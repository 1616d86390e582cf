namespace AlignCluster.Models.Tokenization;

/// <summary>One turn of a conversation.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>The family a chat template belongs to (recognised by its markers; every template is rendered by
/// Jinja).</summary>
public enum ChatFormat
{
    /// <summary>No template: prompt and response concatenated as-is; the tokenizer's BOS (if any) starts the prompt,
    /// EOS ends the response.</summary>
    Plain,

    /// <summary><c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> (Qwen and many fine-tunes).</summary>
    ChatMl,

    /// <summary><c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c> after
    /// <c>&lt;|begin_of_text|&gt;</c>.</summary>
    Llama3,

    /// <summary>Llama-2 / Mistral instruct: <c>&lt;s&gt;[INST] user [/INST]</c> then the answer and
    /// <c>&lt;/s&gt;</c>.</summary>
    Inst,

    /// <summary>Any other template (Gemma's <c>&lt;start_of_turn&gt;</c>, …): rendered from its Jinja source like the
    /// others.</summary>
    Other,
}

/// <summary>
/// Turns conversations into text with a model's own Jinja chat_template (see <see cref="JinjaTemplate"/>), as
/// Hugging Face's apply_chat_template does. A scored or generated response is <c>Prompt(messages) + response +
/// EndOfTurn</c>. Both parts come from the template itself: it renders a probe conversation once with the generation
/// prompt and once with an assistant answer; the answer's text then shows what precedes a response (kept in the
/// prompt when it is more than whitespace, e.g. Qwen3's empty think block) and what closes it (its end-of-turn text,
/// trailing whitespace dropped). A template we cannot render is an error at load, never a silent fallback.
/// </summary>
public sealed class ChatTemplate
{
    private const string ProbeUser = "Hello",
        ProbeAnswer = "Zq7AnswerMarker7qZ";

    private readonly JinjaTemplate? _jinja;
    private readonly string? _eosToken,
        _bosToken;
    private readonly string _responsePrefix = "";

    public ChatFormat Format { get; }

    /// <summary>The Jinja source, or null for <see cref="ChatFormat.Plain"/>.</summary>
    public string? Source { get; }

    /// <summary>What closes the assistant's turn (appended to every response that is scored or trained on).</summary>
    public string EndOfTurn { get; }

    /// <summary>A template of our own for <paramref name="format"/> (models created from scratch, tests).</summary>
    public ChatTemplate(ChatFormat format, string? eosToken = null, string? bosToken = null)
        : this(BuiltInSource(format), eosToken, bosToken) { }

    /// <summary>
    /// A model's template (null: plain). <paramref name="source"/> names where it came from in error messages.
    /// </summary>
    /// <exception cref="TokenizerException">The template uses something we do not support, or fails on a one-turn
    /// conversation.</exception>
    public ChatTemplate(string? jinja, string? eosToken, string? bosToken, string source = "tokenizer_config.json")
    {
        _eosToken = eosToken;
        _bosToken = bosToken;
        Source = jinja;
        Format = Detect(jinja);
        if (jinja is null)
        {
            EndOfTurn = eosToken ?? "";
            return;
        }
        try
        {
            _jinja = JinjaTemplate.Parse(jinja);
            string prompt = Render([new ChatMessage("user", ProbeUser)], addGenerationPrompt: true);
            string full = Render(
                [new ChatMessage("user", ProbeUser), new ChatMessage("assistant", ProbeAnswer)],
                addGenerationPrompt: false
            );
            int answer = full.IndexOf(ProbeAnswer, StringComparison.Ordinal);
            if (!full.StartsWith(prompt, StringComparison.Ordinal) || answer < prompt.Length)
                throw new TokenizerException(
                    "the rendered conversation does not continue the generation prompt "
                        + $"(prompt {Quote(prompt)}, conversation {Quote(full)}), so a response's place is unknown"
                );
            string before = full[prompt.Length..answer];
            _responsePrefix = before.Trim().Length > 0 ? before : "";
            EndOfTurn = full[(answer + ProbeAnswer.Length)..].TrimEnd();
        }
        catch (TokenizerException e)
        {
            throw new TokenizerException($"{source}: {e.Message}", e);
        }
    }

    private static string Quote(string s) => System.Text.Json.JsonSerializer.Serialize(s);

    /// <summary>True when the formatted prompt already holds its special tokens (any template), so encoding must not
    /// add them again.</summary>
    public bool PromptHasSpecialTokens => _jinja is not null;

    /// <summary>The family of a Jinja chat_template string (null → Plain).</summary>
    public static ChatFormat Detect(string? jinja) =>
        jinja is null ? ChatFormat.Plain
        : jinja.Contains("<|im_start|>", StringComparison.Ordinal) ? ChatFormat.ChatMl
        : jinja.Contains("<|start_header_id|>", StringComparison.Ordinal) ? ChatFormat.Llama3
        : jinja.Contains("[INST]", StringComparison.Ordinal) ? ChatFormat.Inst
        : ChatFormat.Other;

    /// <summary>Our templates for the formats, saved into tokenizer_config.json of models we create.</summary>
    public static string? BuiltInSource(ChatFormat format) =>
        format switch
        {
            ChatFormat.ChatMl =>
                "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
                    + "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
                    + "'<|im_start|>assistant\\n' }}{% endif %}",
            ChatFormat.Llama3 =>
                "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
                    + "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if "
                    + "add_generation_prompt %}"
                    + "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
            // System text joins the first user turn (Mistral's template has no system role); every user turn opens with
            // BOS and every answer is closed with EOS, as in the Llama-2 original.
            ChatFormat.Inst => "{%- set ns = namespace(system='', first=true) -%}"
                + "{%- for m in messages if m['role'] == 'system' -%}{%- set ns.system = ns.system + ('\\n\\n' if "
                + "ns.system else '') + m['content'] -%}{%- endfor -%}"
                + "{%- for m in messages if m['role'] != 'system' -%}"
                + "{%- if m['role'] == 'assistant' -%}{{ ' ' ~ m['content'] | trim ~ eos_token }}"
                + "{%- else -%}{{ bos_token ~ '[INST] ' ~ ((ns.system + '\\n\\n' + m['content']) if ns.first and "
                + "ns.system else m['content']) | trim ~ ' [/INST]' }}"
                + "{%- set ns.first = false -%}{%- endif -%}{%- endfor -%}",
            _ => null,
        };

    /// <summary>The text before the assistant's reply (the template's generation prompt).</summary>
    /// <exception cref="FormatException">The template refuses the conversation (raise_exception, e.g. roles that do not
    /// alternate).</exception>
    public string Prompt(IReadOnlyList<ChatMessage> messages)
    {
        if (_jinja is null)
            // Plain: roles dropped, blank lines between turns
            return string.Join("\n\n", messages.Select(m => m.Content));
        try
        {
            return Render(messages, addGenerationPrompt: true) + _responsePrefix;
        }
        catch (TokenizerException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>A single user prompt formatted as a one-turn conversation.</summary>
    public string Prompt(string userPrompt) =>
        _jinja is null ? userPrompt : Prompt([new ChatMessage("user", userPrompt)]);

    /// <summary>The template rendered as HF's apply_chat_template renders it (messages, add_generation_prompt, bos/eos
    /// tokens).</summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        if (_jinja is null)
            throw new InvalidOperationException("a plain template has no Jinja source");
        var variables = new Dictionary<string, object?>
        {
            ["messages"] = messages
                .Select(m => (object?)new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content })
                .ToList(),
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        if (_bosToken is not null)
            variables["bos_token"] = _bosToken;
        if (_eosToken is not null)
            variables["eos_token"] = _eosToken;
        return _jinja.Render(variables);
    }
}
