using System.Text.Json;
using System.Text.Json.Nodes;
using AlignCluster.Models.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models;

/// <summary>
/// A Hugging Face reward-model directory (a sequence classifier with one label: GPT2ForSequenceClassification,
/// LlamaForSequenceClassification, MistralForSequenceClassification, Qwen2ForSequenceClassification) loaded for
/// scoring. The reward of a token sequence (prompt + response) is score.weight · h, h the final hidden state at its
/// last token — HF's rule: the rightmost token that is not config.json's pad_token_id (the last token when the config
/// has no pad id). Tokenizer files are not read here: the caller passes ids of the model's own vocabulary.
/// </summary>
public sealed class RewardModel : IDisposable
{
    private RewardModel(string directory, SequenceClassifier network)
    {
        Directory = directory;
        Network = network;
    }

    /// <summary>The model directory (absolute).</summary>
    public string Directory { get; }
    public SequenceClassifier Network { get; }
    public ModelConfig Config => Network.Config;

    /// <summary>
    /// Checks a directory without loading its weights: config.json of a supported model type, declared as a sequence
    /// classifier with one label, and a safetensors checkpoint holding exactly the trunk plus score.weight (1, hidden).
    /// Every problem is a <see cref="ModelLoadException"/> naming the file and what was expected.
    /// </summary>
    public static ModelConfig Check(string directory)
    {
        directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(directory))
            throw new ModelLoadException($"reward model directory '{directory}' does not exist");
        string configPath = Path.Combine(directory, "config.json");
        var config = ModelConfig.Load(configPath);
        var declared = DeclaredHead(config.Json!, configPath);
        if (!SafeTensorsCheckpoint.Exists(directory))
            throw new ModelLoadException(
                $"{Path.Combine(directory, SafeTensorsCheckpoint.SingleFileName)} not found: a reward model needs "
                    + "its weights"
            );
        try
        {
            using var checkpoint = SafeTensorsCheckpoint.Open(directory);
            CheckHead(config, declared, checkpoint, configPath);
        }
        catch (SafeTensorsException e)
        {
            throw new ModelLoadException(e.Message, e);
        }
        return config;
    }

    /// <summary>Loads a reward model (see <see cref="Check"/> for what is refused), weights as <paramref name="dtype"/>
    /// on <paramref name="device"/>.</summary>
    public static RewardModel Load(string directory, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        directory = Path.GetFullPath(directory);
        var config = Check(directory);
        var network = CheckpointLoader.Fill(
            new SequenceClassifier(config, labels: 1, dtype, device ?? torch.CPU),
            directory,
            source => WeightLayout.ResolveClassifier(config, 1, source)
        );
        return new RewardModel(directory, network);
    }

    /// <summary>
    /// The reward of each sequence, without gradients, in padded batches of up to <paramref name="batchSize"/>
    /// (sequences of similar length batched together; the values do not depend on the batching).
    /// </summary>
    /// <exception cref="ArgumentException">An empty sequence, an id outside [0, vocab_size), or a GPT-2 sequence longer
    /// than n_positions; the message names the row.</exception>
    public double[] Score(IReadOnlyList<IReadOnlyList<int>> sequences, int batchSize = 16)
    {
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "must be ≥ 1");
        for (int i = 0; i < sequences.Count; i++)
            Validate(sequences[i], i);
        var rewards = new double[sequences.Count];
        // less padding per batch
        var order = Enumerable.Range(0, sequences.Count).OrderBy(i => sequences[i].Count).ToArray();
        using var noGrad = torch.no_grad();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var batch = order.AsSpan(start, Math.Min(batchSize, order.Length - start)).ToArray();
            var values = ScoreBatch(batch.Select(i => sequences[i]).ToList());
            for (int k = 0; k < batch.Length; k++)
                rewards[batch[k]] = values[k];
        }
        return rewards;
    }

    /// <summary>The position HF pools at: the rightmost token that is not <paramref name="padId"/> (0 when all are), or
    /// the last one without a pad id.</summary>
    public static int LastTokenIndex(IReadOnlyList<int> sequence, int? padId)
    {
        if (padId is not { } pad)
            return sequence.Count - 1;
        for (int j = sequence.Count - 1; j >= 0; j--)
            if (sequence[j] != pad)
                return j;
        return 0;
    }

    private double[] ScoreBatch(List<IReadOnlyList<int>> rows)
    {
        int b = rows.Count,
            t = rows.Max(r => r.Count);
        var ids = new long[b * t];
        var attention = new long[b * t];
        var last = new long[b];
        for (int i = 0; i < b; i++)
        {
            for (int j = 0; j < rows[i].Count; j++)
            {
                ids[i * t + j] = rows[i][j];
                attention[i * t + j] = 1;
            }
            // right padding: positions past the row are never pooled
            last[i] = LastTokenIndex(rows[i], Config.PadTokenId);
        }
        bool padded = attention.Contains(0);
        var device = Network.Device;
        using var scope = torch.NewDisposeScope();
        var idsT = torch.tensor(ids, [b, t], device: device); // (B, T)
        var maskT = padded ? torch.tensor(attention, [b, t], device: device) : null; // (B, T)
        var logits = Network.Forward(idsT, maskT, torch.tensor(last, device: device)); // (B, 1)
        return logits.reshape(b).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
    }

    private void Validate(IReadOnlyList<int> sequence, int row)
    {
        if (sequence.Count == 0)
            throw new ArgumentException($"reward model {Directory}: sequence {row} is empty");
        foreach (int id in sequence)
            if (id < 0 || id >= Config.VocabSize)
                throw new ArgumentException(
                    $"reward model {Directory}: sequence {row} holds token id {id}, outside its vocabulary [0, "
                        + $"{Config.VocabSize}) — "
                        + "the policy's tokenizer is not the reward model's"
                );
        if (Config.Family == ModelFamily.Gpt2 && sequence.Count > Config.MaxPositions)
            throw new ArgumentException(
                $"reward model {Directory}: sequence {row} has {sequence.Count} tokens, more than its "
                    + $"{Config.MaxPositions} positions (n_positions)"
            );
    }

    /// <summary>
    /// What config.json declares: the architectures (each must be a *ForSequenceClassification when listed) and the
    /// number of labels — num_labels, else the size of id2label (HF derives num_labels from it; we do not assume
    /// HF's default of 2 when neither is present, the head's shape decides then).
    /// </summary>
    private static int? DeclaredHead(string json, string configPath)
    {
        var o = (JsonObject)JsonNode.Parse(json)!;
        if (o["architectures"] is JsonArray { Count: > 0 } architectures)
        {
            var names = architectures.Select(a => a?.ToString() ?? "").ToList();
            if (!names.Any(n => n.EndsWith("ForSequenceClassification", StringComparison.Ordinal)))
                throw new ModelLoadException(
                    $"{configPath}: architectures [{string.Join(", ", names)}] is not a sequence classifier; a "
                        + "reward model is "
                        + "a *ForSequenceClassification checkpoint (e.g. LlamaForSequenceClassification) with "
                        + "num_labels 1"
                );
        }
        try
        {
            if (o["num_labels"] is JsonValue n)
                return n.GetValue<int>();
            if (o["id2label"] is JsonObject labels)
                return labels.Count;
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or JsonException)
        {
            throw new ModelLoadException($"{configPath}: field 'num_labels' must be an integer", e);
        }
        return null;
    }

    private static void CheckHead(
        ModelConfig config,
        int? declaredLabels,
        ISafeTensorSource checkpoint,
        string configPath
    )
    {
        if (declaredLabels is { } declared && declared != 1)
            throw new ModelLoadException(
                $"{configPath}: num_labels is {declared} (id2label/num_labels); a reward model has exactly 1 "
                    + "label (one score per sequence)"
            );
        if (!checkpoint.Contains("score.weight"))
            throw new ModelLoadException(
                $"{checkpoint.FileOf("score.weight")}: no tensor 'score.weight': not a sequence-classification "
                    + "checkpoint "
                    + $"(a reward model's head is score.weight of shape [1, {config.HiddenSize}])"
            );
        var shape = checkpoint.Info("score.weight").Shape;
        if (shape.Length == 2 && shape[0] != 1 && shape[1] == config.HiddenSize)
            throw new ModelLoadException(
                $"{checkpoint.FileOf("score.weight")}: score.weight has {shape[0]} rows (labels); a reward model "
                    + "has exactly 1"
            );
        // the trunk's tensors and the head's shape, each error naming the key
        WeightLayout.ResolveClassifier(config, 1, checkpoint);
    }

    public void Dispose() => Network.Dispose();
}
