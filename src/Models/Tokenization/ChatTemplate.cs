using System.Text;

namespace AlignCluster.Models.Tokenization;

/// <summary>One turn of a conversation.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>The prompt formats we support (chosen per model from tokenizer_config.json's chat_template).</summary>
public enum ChatFormat
{
    /// <summary>Prompt and response concatenated as-is; the tokenizer's BOS (if any) starts the prompt, EOS ends the response.</summary>
    Plain,

    /// <summary><c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> (Qwen and many fine-tunes).</summary>
    ChatMl,

    /// <summary><c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c> after <c>&lt;|begin_of_text|&gt;</c>.</summary>
    Llama3,

    /// <summary>Llama-2 / Mistral instruct: <c>&lt;s&gt;[INST] user [/INST]</c> then the answer and <c>&lt;/s&gt;</c>.</summary>
    Inst,
}

/// <summary>
/// Turns conversations into text. A scored or generated response is <c>Prompt(messages) + response + EndOfTurn</c>:
/// the prompt ends with the assistant header, and the response ends with the turn's end marker.
/// </summary>
public sealed class ChatTemplate(ChatFormat format, string? eosToken = null, string? bosToken = null)
{
    public ChatFormat Format { get; } = format;

    /// <summary>True when the formatted prompt already holds the BOS text, so encoding must not add special tokens again.</summary>
    public bool PromptHasSpecialTokens => Format is ChatFormat.ChatMl or ChatFormat.Llama3 || (Format == ChatFormat.Inst && bosToken is not null);

    /// <summary>Picks the format from a Jinja chat_template string (null or unrecognised → Plain).</summary>
    public static ChatFormat Detect(string? jinja) =>
        jinja is null ? ChatFormat.Plain
        : jinja.Contains("<|im_start|>", StringComparison.Ordinal) ? ChatFormat.ChatMl
        : jinja.Contains("<|start_header_id|>", StringComparison.Ordinal) ? ChatFormat.Llama3
        : jinja.Contains("[INST]", StringComparison.Ordinal) ? ChatFormat.Inst
        : ChatFormat.Plain;

    /// <summary>The text before the assistant's reply (including the assistant header).</summary>
    public string Prompt(IReadOnlyList<ChatMessage> messages)
    {
        var sb = new StringBuilder();
        switch (Format)
        {
            case ChatFormat.ChatMl:
                foreach (var m in messages) sb.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
                sb.Append("<|im_start|>assistant\n");
                break;
            case ChatFormat.Llama3:
                sb.Append("<|begin_of_text|>");
                foreach (var m in messages)
                    sb.Append("<|start_header_id|>").Append(m.Role).Append("<|end_header_id|>\n\n").Append(m.Content.Trim()).Append("<|eot_id|>");
                sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
                break;
            case ChatFormat.Inst:
                // System text joins the first user turn (Mistral's template has no system role); earlier assistant
                // turns are closed with EOS, as in the Jinja original.
                string system = string.Join("\n\n", messages.Where(m => m.Role == "system").Select(m => m.Content));
                bool first = true;
                foreach (var m in messages.Where(m => m.Role != "system"))
                {
                    if (m.Role == "assistant") { sb.Append(' ').Append(m.Content.Trim()).Append(eosToken); continue; }
                    string content = first && system.Length > 0 ? system + "\n\n" + m.Content : m.Content;
                    sb.Append(bosToken).Append("[INST] ").Append(content.Trim()).Append(" [/INST]");
                    first = false;
                }
                break;
            default:
                // Plain: roles are dropped; turns are separated by blank lines.
                sb.AppendJoin("\n\n", messages.Select(m => m.Content));
                break;
        }
        return sb.ToString();
    }

    /// <summary>A single user prompt formatted as a one-turn conversation.</summary>
    public string Prompt(string userPrompt) =>
        Format == ChatFormat.Plain ? userPrompt : Prompt([new ChatMessage("user", userPrompt)]);

    /// <summary>What closes the assistant's turn (appended to every response that is scored or trained on).</summary>
    public string EndOfTurn => Format switch
    {
        ChatFormat.ChatMl => "<|im_end|>",
        ChatFormat.Llama3 => "<|eot_id|>",
        _ => eosToken ?? "", // Plain and Inst end the answer with EOS
    };

}
