using System.Text.RegularExpressions;
using AlignCluster.Models.SafeTensors;

namespace AlignCluster.Models;

/// <summary>
/// The Hugging Face tensor names and shapes of a configuration, and the check that a checkpoint holds exactly them.
/// GPT-2 keeps Conv1D weights as (in, out); Llama-family Linear weights are (out, in).
/// </summary>
public static partial class WeightLayout
{
    /// <summary>Every tensor a checkpoint of <paramref name="config"/> holds, in HF order, with HF names.</summary>
    public static List<(string Name, long[] Shape)> Expected(ModelConfig config) =>
        config.Family == ModelFamily.Gpt2 ? Gpt2(config) : Llama(config);

    /// <summary>
    /// Every tensor of HF's GPT2/LlamaForSequenceClassification: the trunk (no LM head) plus the unbiased head
    /// "score.weight" (labels, C).
    /// </summary>
    public static List<(string Name, long[] Shape)> ExpectedClassifier(ModelConfig config, int labels) =>
        [.. Expected(HeadlessConfig(config)), ("score.weight", [labels, config.HiddenSize])];

    /// <summary>A classifier has no LM head: as a tied config it expects none and ignores a stray
    /// lm_head.weight.</summary>
    internal static ModelConfig HeadlessConfig(ModelConfig config) => config with { TieWordEmbeddings = true };

    private static List<(string, long[])> Gpt2(ModelConfig c)
    {
        long C = c.HiddenSize,
            F = c.IntermediateSize;
        var list = new List<(string, long[])>
        {
            ("transformer.wte.weight", [c.VocabSize, C]),
            ("transformer.wpe.weight", [c.MaxPositions, C]),
        };
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"transformer.h.{i}.";
            list.Add((p + "ln_1.weight", [C]));
            list.Add((p + "ln_1.bias", [C]));
            list.Add((p + "attn.c_attn.weight", [C, 3 * C]));
            list.Add((p + "attn.c_attn.bias", [3 * C]));
            list.Add((p + "attn.c_proj.weight", [C, C]));
            list.Add((p + "attn.c_proj.bias", [C]));
            list.Add((p + "ln_2.weight", [C]));
            list.Add((p + "ln_2.bias", [C]));
            list.Add((p + "mlp.c_fc.weight", [C, F]));
            list.Add((p + "mlp.c_fc.bias", [F]));
            list.Add((p + "mlp.c_proj.weight", [F, C]));
            list.Add((p + "mlp.c_proj.bias", [C]));
        }
        list.Add(("transformer.ln_f.weight", [C]));
        list.Add(("transformer.ln_f.bias", [C]));
        if (!c.TieWordEmbeddings)
            list.Add(("lm_head.weight", [c.VocabSize, C]));
        return list;
    }

    private static List<(string, long[])> Llama(ModelConfig c)
    {
        long C = c.HiddenSize,
            F = c.IntermediateSize,
            q = (long)c.NumHeads * c.HeadDim,
            kv = (long)c.NumKvHeads * c.HeadDim;
        var list = new List<(string, long[])> { ("model.embed_tokens.weight", [c.VocabSize, C]) };
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            list.Add((p + "input_layernorm.weight", [C]));
            list.Add((p + "self_attn.q_proj.weight", [q, C]));
            if (c.QkvBias)
                list.Add((p + "self_attn.q_proj.bias", [q]));
            list.Add((p + "self_attn.k_proj.weight", [kv, C]));
            if (c.QkvBias)
                list.Add((p + "self_attn.k_proj.bias", [kv]));
            list.Add((p + "self_attn.v_proj.weight", [kv, C]));
            if (c.QkvBias)
                list.Add((p + "self_attn.v_proj.bias", [kv]));
            list.Add((p + "self_attn.o_proj.weight", [C, q]));
            if (c.OutputProjBias)
                list.Add((p + "self_attn.o_proj.bias", [C]));
            list.Add((p + "post_attention_layernorm.weight", [C]));
            list.Add((p + "mlp.gate_proj.weight", [F, C]));
            list.Add((p + "mlp.up_proj.weight", [F, C]));
            list.Add((p + "mlp.down_proj.weight", [C, F]));
            if (c.MlpBias)
            {
                list.Add((p + "mlp.gate_proj.bias", [F]));
                list.Add((p + "mlp.up_proj.bias", [F]));
                list.Add((p + "mlp.down_proj.bias", [C]));
            }
        }
        list.Add(("model.norm.weight", [C]));
        if (!c.TieWordEmbeddings)
            list.Add(("lm_head.weight", [c.VocabSize, C]));
        return list;
    }

    /// <summary>
    /// Maps every expected name to the name it has in <paramref name="source"/> (old GPT-2 files omit the
    /// "transformer." prefix) and checks shapes. Buffers HF never loads (attention masks, rotary inv_freq) and a
    /// tied checkpoint's redundant lm_head are ignored; anything else unexpected is an error, as is a missing or
    /// mis-shaped tensor — each error names the key, the file and both shapes.
    /// </summary>
    public static Dictionary<string, string> Resolve(ModelConfig config, ISafeTensorSource source) =>
        Resolve(config, source, Expected(config));

    /// <summary>As <see cref="Resolve(ModelConfig, ISafeTensorSource)"/> for a sequence classifier (<see
    /// cref="ExpectedClassifier"/>).</summary>
    public static Dictionary<string, string> ResolveClassifier(
        ModelConfig config,
        int labels,
        ISafeTensorSource source
    ) => Resolve(HeadlessConfig(config), source, ExpectedClassifier(config, labels));

    private static Dictionary<string, string> Resolve(
        ModelConfig config,
        ISafeTensorSource source,
        List<(string Name, long[] Shape)> expected
    )
    {
        var map = new Dictionary<string, string>();
        var problems = new List<string>();
        foreach (var (name, shape) in expected)
        {
            string? found = Candidates(name).FirstOrDefault(source.Contains);
            if (found is null)
            {
                problems.Add($"missing tensor '{name}' (expected shape {SafeTensorDTypes.FormatShape(shape)})");
                continue;
            }
            var info = source.Info(found);
            if (!info.Shape.SequenceEqual(shape))
                problems.Add(
                    $"tensor '{found}' in '{Path.GetFileName(source.FileOf(found))}' has shape "
                        + $"{SafeTensorDTypes.FormatShape(info.Shape)}, "
                        + $"expected {SafeTensorDTypes.FormatShape(shape)}"
                );
            else if (
                info.DType
                is not (SafeTensorDType.F32 or SafeTensorDType.BF16 or SafeTensorDType.F16 or SafeTensorDType.F64)
            )
                problems.Add($"tensor '{found}' has dtype {info.DType}, expected a floating-point type");
            map[name] = found;
        }
        var used = map.Values.ToHashSet();
        foreach (var name in source.Names.Where(n => !used.Contains(n)).Order())
            if (!IsIgnorable(name, config))
                problems.Add($"unexpected tensor '{name}' for model_type '{config.ModelType}'");
        if (problems.Count > 0)
        {
            string file =
                source.Names.Count > 0 ? Path.GetDirectoryName(source.FileOf(source.Names.First())) ?? "" : "";
            throw new ModelLoadException(
                $"checkpoint in '{file}' does not match config.json: "
                    + string.Join("; ", problems.Take(20))
                    + (problems.Count > 20 ? $"; … and {problems.Count - 20} more" : "")
            );
        }
        return map;
    }

    private static IEnumerable<string> Candidates(string name)
    {
        yield return name;
        if (name.StartsWith("transformer.", StringComparison.Ordinal))
            yield return name["transformer.".Length..];
    }

    private static bool IsIgnorable(string name, ModelConfig config) =>
        IgnoredBuffer().IsMatch(name) || (config.TieWordEmbeddings && name == "lm_head.weight");

    [GeneratedRegex(@"(^|\.)(attn\.bias|attn\.masked_bias|rotary_emb\.inv_freq)$")]
    private static partial Regex IgnoredBuffer();
}
