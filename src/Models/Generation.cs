using AlignCluster.Models.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models;

/// <summary>Sampling settings. Temperature 0 means greedy decoding.</summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 64;
    public double Temperature { get; init; } = 1.0;

    /// <summary>Nucleus sampling: keep the smallest set of tokens whose probability reaches TopP (1 = off).</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Keep only the K most likely tokens (0 = off).</summary>
    public int TopK { get; init; }

    /// <summary>Generation of a row ends when it samples one of these ids (the id is not included in the
    /// output).</summary>
    public IReadOnlyCollection<int> StopTokenIds { get; init; } = [];

    /// <summary>Seed of the sampling generator; the same seed, model and prompts give the same tokens.</summary>
    public ulong Seed { get; init; }
}

/// <summary>A generated continuation: its tokens (without the stop token) and the stop token that ended it, if one
/// did.</summary>
public sealed record GeneratedSequence(List<int> TokenIds, int? StopTokenId)
{
    /// <summary>Whether a stop token ended the row (rather than the token budget).</summary>
    public bool Stopped => StopTokenId is not null;
}

/// <summary>Batched autoregressive sampling with a KV cache.</summary>
public static class Generation
{
    /// <summary>
    /// Continues every prompt (left-padded into one batch). Each step feeds only the newly sampled tokens and reuses
    /// the cached keys/values of everything before.
    /// </summary>
    public static List<GeneratedSequence> Generate(
        CausalLM model,
        IReadOnlyList<IReadOnlyList<int>> prompts,
        GenerationOptions options,
        int padId = 0
    )
    {
        if (prompts.Count == 0)
            return [];
        if (prompts.Any(p => p.Count == 0))
            throw new ArgumentException("every prompt needs at least one token (e.g. BOS)", nameof(prompts));
        int b = prompts.Count,
            p = prompts.Max(x => x.Count);
        if (model.Config.Family == ModelFamily.Gpt2 && p + options.MaxNewTokens > model.Config.MaxPositions)
            throw new ArgumentException(
                $"prompt ({p}) + max new tokens ({options.MaxNewTokens}) exceed GPT-2's "
                    + $"{model.Config.MaxPositions} positions"
            );

        var ids = new long[b * p];
        var attention = new long[b * p];
        for (int i = 0; i < b; i++)
        {
            int pad = p - prompts[i].Count; // left padding keeps every row's last token in the last column
            for (int j = 0; j < p; j++)
            {
                ids[i * p + j] = j < pad ? padId : prompts[i][j - pad];
                attention[i * p + j] = j < pad ? 0 : 1;
            }
        }

        var device = model.Device;
        var outputs = Enumerable.Range(0, b).Select(_ => new List<int>()).ToList();
        var stopped = new bool[b];
        var stoppedBy = new int?[b];
        var stops = options.StopTokenIds.ToHashSet();
        using var noGrad = torch.no_grad();
        using var generator = new Generator(options.Seed); // sampling happens on the CPU: same tokens on any device
        using var cache = new KvCache(model.Config.NumLayers);
        // (B, S) grows by one per step
        var mask = torch.tensor(attention, [b, p], device: device).DetachFromDisposeScope();
        try
        {
            Tensor input = torch.tensor(ids, [b, p], device: device).DetachFromDisposeScope(); // (B, T)
            for (int step = 0; step < options.MaxNewTokens; step++)
            {
                long[] next;
                using (var scope = torch.NewDisposeScope())
                {
                    var logits = model.Forward(input, mask, cache); // (B, T, V)
                    var last = logits.select(1, logits.shape[1] - 1).cpu(); // (B, V)
                    next = Sample(last, options, generator).data<long>().ToArray(); // (B)
                }
                input.Dispose();
                for (int i = 0; i < b; i++)
                {
                    if (stopped[i])
                    {
                        next[i] = padId;
                        continue;
                    }
                    if (stops.Contains((int)next[i]))
                    {
                        stopped[i] = true;
                        stoppedBy[i] = (int)next[i];
                    }
                    else
                        outputs[i].Add((int)next[i]);
                }
                input = torch.tensor(next, [b, 1], device: device).DetachFromDisposeScope(); // (B, 1)
                if (stopped.All(s => s) || step == options.MaxNewTokens - 1)
                {
                    input.Dispose();
                    break;
                }
                using var column = torch.tensor(stopped.Select(s => s ? 0L : 1L).ToArray(), [b, 1], device: device);
                var grown = torch.cat([mask, column], 1).DetachFromDisposeScope();
                mask.Dispose();
                mask = grown;
            }
        }
        finally
        {
            mask.Dispose();
        }
        return outputs.Select((o, i) => new GeneratedSequence(o, stoppedBy[i])).ToList();
    }

    /// <summary>
    /// One token per row from (B, V) logits: greedy at temperature 0, else softmax(logits / T) restricted to the top-k
    /// tokens and to the top-p nucleus (the most likely token always stays), sampled with <paramref name="generator"/>.
    /// </summary>
    public static Tensor Sample(Tensor logits, GenerationOptions options, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var x = logits.to_type(ScalarType.Float32); // (B, V)
        if (options.Temperature <= 0)
            return x.argmax(-1).MoveToOuterDisposeScope();
        x = x / options.Temperature;
        long v = x.shape[^1];
        if (options.TopK > 0 && options.TopK < v)
        {
            var kth = x.topk(options.TopK, -1).values.narrow(-1, options.TopK - 1, 1); // (B, 1)
            x = x.masked_fill(x.lt(kth), double.NegativeInfinity);
        }
        if (options.TopP < 1)
        {
            var (sorted, order) = x.sort(-1, descending: true); // (B, V) each
            var probs = sorted.softmax(-1);
            // Drop a token when the tokens ranked above it already reach TopP.
            var remove = (probs.cumsum(-1) - probs).gt(options.TopP);
            var kept = sorted.masked_fill(remove, double.NegativeInfinity);
            x = torch.full_like(x, double.NegativeInfinity).scatter(-1, order, kept);
        }
        return x.softmax(-1).multinomial(1, generator: generator).squeeze(-1).MoveToOuterDisposeScope(); // (B)
    }
}
