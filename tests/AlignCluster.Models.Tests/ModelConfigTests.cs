using AlignCluster.Models.SafeTensors;

namespace AlignCluster.Models.Tests;

public sealed class ModelConfigTests
{
    // The public config.json of meta-llama/Llama-3.1-8B (fields as published).
    private const string Llama31Config = """
        {"architectures":["LlamaForCausalLM"],"attention_bias":false,"attention_dropout":0.0,"bos_token_id":128000,
         "eos_token_id":[128001,128008,128009],"hidden_act":"silu","hidden_size":4096,"initializer_range":0.02,
         "intermediate_size":14336,"max_position_embeddings":131072,"mlp_bias":false,"model_type":"llama",
         "num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":8,"pretraining_tp":1,"rms_norm_eps":1e-05,
         "rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},
         "rope_theta":500000.0,"tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.43.0.dev0","use_cache":true,"vocab_size":128256}
        """;

    [Fact]
    public void ParsesLlama31WithLlama3RopeScalingAndGqa()
    {
        var c = ModelConfig.Parse(Llama31Config);
        Assert.Equal(ModelFamily.Llama, c.Family);
        Assert.Equal((32, 8, 128, 14336), (c.NumHeads, c.NumKvHeads, c.HeadDim, c.IntermediateSize));
        Assert.Equal(new RopeScaling("llama3", 8, 1, 4, 8192), c.RopeScaling);
        Assert.Equal(500000.0, c.RopeTheta);
        Assert.Equal([128001, 128008, 128009], c.EosTokenIds);
        Assert.False(c.TieWordEmbeddings);
        Assert.False(c.QkvBias);
        Assert.Null(c.SlidingWindow);
        // Written back, fields we do not model survive and the ones we do re-parse identically.
        string written = c.ToJson();
        Assert.Contains("transformers_version", written);
        Assert.Equal((c with { Json = null }).ToJson(), (ModelConfig.Parse(written) with { Json = null }).ToJson());
    }

    [Fact]
    public void ParsesGpt2MistralAndQwen2Specifics()
    {
        var gpt2 = ModelConfig.Parse(
            """
            {"model_type":"gpt2","vocab_size":50257,"n_embd":768,"n_layer":12,"n_head":12,"n_positions":1024,"n_ctx":1024,"n_inner":null,
             "activation_function":"gelu_new","layer_norm_epsilon":1e-05,"bos_token_id":50256,"eos_token_id":50256}
            """
        );
        Assert.Equal(
            (ModelFamily.Gpt2, 3072, 64, true),
            (gpt2.Family, gpt2.IntermediateSize, gpt2.HeadDim, gpt2.TieWordEmbeddings)
        );

        var mistral = ModelConfig.Parse(
            """
            {"model_type":"mistral","vocab_size":32000,"hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,
             "num_attention_heads":32,"num_key_value_heads":8,"sliding_window":4096,"rope_theta":10000.0,"rms_norm_eps":1e-05}
            """
        );
        Assert.Equal(4096, mistral.SlidingWindow);

        var qwen = ModelConfig.Parse(
            """
            {"model_type":"qwen2","vocab_size":151936,"hidden_size":896,"intermediate_size":4864,"num_hidden_layers":24,
             "num_attention_heads":14,"num_key_value_heads":2,"tie_word_embeddings":true,"use_sliding_window":false,"sliding_window":32768}
            """
        );
        Assert.True(qwen.QkvBias);
        Assert.False(qwen.OutputProjBias);
        Assert.True(qwen.TieWordEmbeddings);
        Assert.Null(qwen.SlidingWindow);
        Assert.Contains(WeightLayout.Expected(qwen), t =>
            t.Name == "model.layers.0.self_attn.k_proj.bias" && t.Shape.SequenceEqual([128L])
        );
    }

    [Theory]
    [InlineData(
        """{"model_type":"bert","architectures":["BertModel"]}""",
        "model_type 'bert' (architectures: BertModel) is not supported"
    )]
    [InlineData(
        """{"architectures":["T5ForConditionalGeneration"]}""",
        "missing field 'model_type' (architectures: T5ForConditionalGeneration)"
    )]
    [InlineData(
        """{"model_type":"llama","vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2}""",
        "field 'intermediate_size': missing"
    )]
    [InlineData(
        """{"model_type":"gpt2","vocab_size":"many","n_embd":8,"n_layer":1,"n_head":2,"n_positions":4}""",
        "field 'vocab_size': must be an integer"
    )]
    [InlineData(
        """{"model_type":"llama","vocab_size":10,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":3}""",
        "not a multiple of num_key_value_heads 3"
    )]
    [InlineData(
        """{"model_type":"llama","vocab_size":10,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"rope_scaling":{"rope_type":"yarn","factor":4}}""",
        "rope_type 'yarn' is not supported"
    )]
    [InlineData("[1,2]", "top level must be an object")]
    [InlineData("{", "not valid JSON")]
    public void BadConfigsGiveClearErrors(string json, string expected)
    {
        var e = Assert.Throws<ModelLoadException>(() => ModelConfig.Parse(json, "m/config.json"));
        Assert.Contains("m/config.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void CheckpointResolutionNamesMissingMisShapedAndUnexpectedTensors()
    {
        var config = ModelConfig.Parse(
            """
            {"model_type":"gpt2","vocab_size":11,"n_embd":8,"n_layer":1,"n_head":2,"n_positions":6}
            """
        );
        string dir = Directory.CreateTempSubdirectory("layout").FullName;
        try
        {
            var entries = WeightLayout
                .Expected(config)
                .Select(t =>
                    SafeTensorEntry.FromBytes(
                        t.Name,
                        SafeTensorDType.F32,
                        t.Shape,
                        new byte[SafeTensorDTypes.ElementCount(t.Shape) * 4]
                    )
                )
                .ToList();
            // Old-style names (no "transformer." prefix) and the causal-mask buffer, as in openai-community/gpt2.
            var oldStyle = entries.Select(e => e with { Name = e.Name.Replace("transformer.", "") }).ToList();
            oldStyle.Add(SafeTensorEntry.FromBytes("h.0.attn.bias", SafeTensorDType.F32, [1, 1, 6, 6], new byte[144]));
            SafeTensorsCheckpoint.Save(dir, oldStyle);
            using (var ok = SafeTensorsCheckpoint.Open(dir))
                Assert.Equal("h.0.ln_1.weight", WeightLayout.Resolve(config, ok)["transformer.h.0.ln_1.weight"]);

            var broken = entries
                .Where(e => e.Name != "transformer.ln_f.bias")
                .Select(e =>
                    e.Name == "transformer.h.0.attn.c_attn.weight"
                        ? SafeTensorEntry.FromBytes(e.Name, SafeTensorDType.F32, [24, 8], new byte[24 * 8 * 4])
                        : e
                )
                .ToList();
            broken.Add(SafeTensorEntry.FromBytes("transformer.h.7.mystery", SafeTensorDType.F32, [1], new byte[4]));
            SafeTensorsCheckpoint.Save(dir, broken);
            using var bad = SafeTensorsCheckpoint.Open(dir);
            var e = Assert.Throws<ModelLoadException>(() => WeightLayout.Resolve(config, bad));
            Assert.Contains("missing tensor 'transformer.ln_f.bias' (expected shape [8])", e.Message);
            Assert.Contains(
                "tensor 'transformer.h.0.attn.c_attn.weight' in 'model.safetensors' has shape [24, 8], expected "
                    + "[8, 24]",
                e.Message
            );
            Assert.Contains("unexpected tensor 'transformer.h.7.mystery'", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
