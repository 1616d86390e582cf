using AlignCluster.Models.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models.Tests;

/// <summary>Small configurations of every supported variant, so model tests run in seconds.</summary>
internal static class TinyModels
{
    public const int Vocab = 260; // 256 bytes + 4 special tokens (BytesOnly tokenizer)

    public static ModelConfig Gpt2(bool tied = true, int vocab = Vocab) =>
        ModelConfig.Parse(
            $$"""
            {"model_type":"gpt2","vocab_size":{{vocab}},"n_embd":32,"n_layer":2,"n_head":4,"n_positions":64,"tie_word_embeddings":{{(
                tied ? "true" : "false"
            )}}}
            """
        );

    /// <summary>Llama-3.1 style: GQA (4 query heads, 2 kv heads), llama3 rope scaling with a short original context so
    /// every band is used.</summary>
    public static ModelConfig Llama(bool tied = false, int vocab = Vocab) =>
        ModelConfig.Parse(
            $$"""
            {"model_type":"llama","vocab_size":{{vocab}},"hidden_size":32,"intermediate_size":48,"num_hidden_layers":2,
             "num_attention_heads":4,"num_key_value_heads":2,"max_position_embeddings":128,"rms_norm_eps":1e-5,"rope_theta":500000.0,
             "rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":16},
             "tie_word_embeddings":{{(tied ? "true" : "false")}}}
            """
        );

    public static ModelConfig Qwen2() =>
        ModelConfig.Parse(
            $$"""
            {"model_type":"qwen2","vocab_size":{{Vocab}},"hidden_size":32,"intermediate_size":48,"num_hidden_layers":2,
             "num_attention_heads":4,"num_key_value_heads":1,"tie_word_embeddings":true}
            """
        );

    /// <summary>Mistral with a 5-token sliding window, so windowing matters within short test sequences.</summary>
    public static ModelConfig Mistral() =>
        ModelConfig.Parse(
            $$"""
            {"model_type":"mistral","vocab_size":{{Vocab}},"hidden_size":32,"intermediate_size":48,"num_hidden_layers":2,
             "num_attention_heads":4,"num_key_value_heads":2,"sliding_window":5}
            """
        );

    public static ModelConfig ByName(string name) =>
        name switch
        {
            "gpt2" => Gpt2(),
            "gpt2-untied" => Gpt2(tied: false),
            "llama" => Llama(),
            "llama-tied" => Llama(tied: true),
            "qwen2" => Qwen2(),
            "mistral" => Mistral(),
            _ => throw new ArgumentException(name),
        };

    public static Tokenizer Tokenizer() =>
        TokenizerJson.BytesOnly("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>");

    public static LanguageModel Create(
        string name,
        ulong seed = 1,
        ScalarType dtype = ScalarType.Float32,
        ChatFormat format = ChatFormat.Plain
    ) => LanguageModel.Create(ByName(name), Tokenizer(), format, seed, dtype, eosToken: "<|endoftext|>");

    public static Tensor Ids(long[,] values)
    {
        int b = values.GetLength(0),
            t = values.GetLength(1);
        var flat = new long[b * t];
        for (int i = 0; i < b; i++)
        for (int j = 0; j < t; j++)
            flat[i * t + j] = values[i, j];
        return torch.tensor(flat, [b, t]);
    }

    public static Tensor RandomIds(int b, int t, int seed, int vocab = Vocab)
    {
        var rng = new Random(seed);
        return torch.tensor(Enumerable.Range(0, b * t).Select(_ => (long)rng.Next(vocab)).ToArray(), b, t);
    }
}
