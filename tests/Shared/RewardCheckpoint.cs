using System.Text.Json.Nodes;
using AlignCluster.Models;
using AlignCluster.Models.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Tests.Shared;

/// <summary>
/// Writes a tiny Hugging Face reward model (XForSequenceClassification, one label) for tests, and computes its
/// reward independently of <see cref="RewardModel"/>: the trunk weights come from a causal LM whose existing
/// <see cref="CausalLM.ForwardHidden"/> gives the final hidden states of the unpadded sequence, and the head is a dot
/// product written out here. Compiled into each test project that needs it.
/// </summary>
internal sealed class RewardCheckpoint : IDisposable
{
    private RewardCheckpoint(string directory, CausalLM backbone, float[] score, int? padId)
    {
        Directory = directory;
        Backbone = backbone;
        Score = score;
        PadId = padId;
    }

    public string Directory { get; }

    /// <summary>A causal LM with the reward model's trunk weights (its own LM head is not written).</summary>
    public CausalLM Backbone { get; }

    /// <summary>score.weight's one row.</summary>
    public float[] Score { get; }
    public int? PadId { get; }

    /// <param name="withScore">false writes a checkpoint without score.weight (a broken reward model).</param>
    public static RewardCheckpoint Write(
        string directory,
        ModelConfig config,
        ulong seed,
        int? padId,
        bool withScore = true
    )
    {
        using var generator = new Generator(seed);
        var backbone = CausalLM.Create(config, ScalarType.Float32, generator);
        float[] score;
        using (var head = torch.randn(new long[] { 1, config.HiddenSize }, generator: generator))
            score = head.data<float>().ToArray();
        var entries = backbone
            .state_dict()
            .Where(p => p.Key != "lm_head.weight")
            .Select(p => SafeTensorsTensors.ToEntry(p.Key, p.Value))
            .ToList();
        using var scoreTensor = torch.tensor(score, [1, config.HiddenSize]); // entries read their tensors when saved
        if (withScore)
            entries.Add(SafeTensorsTensors.ToEntry("score.weight", scoreTensor));
        System.IO.Directory.CreateDirectory(directory);
        SafeTensorsCheckpoint.Save(directory, entries);

        var json = (JsonObject)JsonNode.Parse(config.ToJson())!;
        json["architectures"] = new JsonArray(
            config.ModelType switch
            {
                "gpt2" => "GPT2ForSequenceClassification",
                "mistral" => "MistralForSequenceClassification",
                "qwen2" => "Qwen2ForSequenceClassification",
                _ => "LlamaForSequenceClassification",
            }
        );
        json["id2label"] = new JsonObject { ["0"] = "LABEL_0" }; // what save_pretrained writes for num_labels=1
        json["label2id"] = new JsonObject { ["LABEL_0"] = 0 };
        if (padId is { } pad)
            json["pad_token_id"] = pad;
        else
            json.Remove("pad_token_id");
        File.WriteAllText(Path.Combine(directory, "config.json"), json.ToJsonString());
        return new RewardCheckpoint(Path.GetFullPath(directory), backbone, score, padId);
    }

    /// <summary>
    /// The reward of one sequence: the causal LM's final hidden state (1, T, C) of the sequence alone (no padding,
    /// no mask), taken at the rightmost token that is not the pad id, dotted with score.weight in double precision.
    /// </summary>
    public double Reference(IReadOnlyList<int> sequence)
    {
        int last = sequence.Count - 1;
        while (PadId is { } pad && last > 0 && sequence[last] == pad)
            last--;
        using var noGrad = torch.no_grad();
        using var ids = torch.tensor(sequence.Select(i => (long)i).ToArray(), 1, sequence.Count);
        using var hidden = Backbone.ForwardHidden(ids);
        float[] h = hidden.data<float>().ToArray();
        int c = Score.Length;
        double reward = 0;
        for (int k = 0; k < c; k++)
            reward += (double)h[last * c + k] * Score[k];
        return reward;
    }

    public void Dispose() => Backbone.Dispose();
}
