using AlignCluster.Models.Nn;
using AlignCluster.Torch;

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
    /// <summary>Generation of a row ends when it samples one of these ids (the id is not included in the output).</summary>
    public IReadOnlyCollection<int> StopTokenIds { get; init; } = [];
    /// <summary>Seed of the sampling generator; the same seed, model and prompts give the same tokens.</summary>
    public ulong Seed { get; init; }
}

/// <summary>A generated continuation: its tokens (without the stop token) and the stop token that ended it, if one did.</summary>
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
    public static List<GeneratedSequence> Generate(CausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options, int padId = 0)
    {
        if (prompts.Count == 0) return [];
        if (prompts.Any(p => p.Count == 0)) throw new ArgumentException("every prompt needs at least one token (e.g. BOS)", nameof(prompts));
        int b = prompts.Count, p = prompts.Max(x => x.Count);
        if (model.Config.Family == ModelFamily.Gpt2 && p + options.MaxNewTokens > model.Config.MaxPositions)
            throw new ArgumentException($"prompt ({p}) + max new tokens ({options.MaxNewTokens}) exceed GPT-2's {model.Config.MaxPositions} positions");

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

        var device = model.DeviceOfParameters();
        var outputs = Enumerable.Range(0, b).Select(_ => new List<int>()).ToList();
        var stopped = new bool[b];
        var stoppedBy = new int?[b];
        var stops = options.StopTokenIds.ToHashSet();
        using var noGrad = Autograd.NoGrad();
        using var generator = new Generator(options.Seed);
        using var cache = new KvCache(model.Config.NumLayers);
        var mask = Tensor.From<long>(attention, b, p).To(device).DetachFromScope();    // (B, S) grows by one per step
        try
        {
            Tensor input = Tensor.From<long>(ids, b, p).To(device).DetachFromScope();   // (B, T)
            for (int step = 0; step < options.MaxNewTokens; step++)
            {
                long[] next;
                using (var scope = DisposeScope.Begin())
                {
                    var logits = model.Forward(input, mask, cache);                        // (B, T, V)
                    var last = logits.Select(1, logits.Size(1) - 1);                       // (B, V)
                    next = Sample(last, options, generator).Cpu().ToArray<long>();         // (B)
                }
                input.Dispose();
                for (int i = 0; i < b; i++)
                {
                    if (stopped[i]) { next[i] = padId; continue; }
                    if (stops.Contains((int)next[i])) { stopped[i] = true; stoppedBy[i] = (int)next[i]; }
                    else outputs[i].Add((int)next[i]);
                }
                input = Tensor.From<long>(next, b, 1).To(device).DetachFromScope();      // (B, 1)
                if (stopped.All(s => s) || step == options.MaxNewTokens - 1) { input.Dispose(); break; }
                var grown = Tensor.Cat([mask, Tensor.From<long>(stopped.Select(s => s ? 0L : 1L).ToArray(), b, 1).To(device)], 1).DetachFromScope();
                mask.Dispose();
                mask = grown;
            }
        }
        finally { mask.Dispose(); }
        return outputs.Select((o, i) => new GeneratedSequence(o, stoppedBy[i])).ToList();
    }

    /// <summary>
    /// One token per row from (B, V) logits: greedy at temperature 0, else softmax(logits / T) restricted to the top-k
    /// tokens and to the top-p nucleus (the most likely token always stays), sampled with <paramref name="generator"/>.
    /// </summary>
    public static Tensor Sample(Tensor logits, GenerationOptions options, Generator generator)
    {
        using var scope = DisposeScope.Begin();
        var x = logits.To(DType.Float32);                                                   // (B, V)
        if (options.Temperature <= 0) return scope.MoveOut(x.Argmax(-1));
        x = x.Div(options.Temperature);
        long v = x.Size(-1);
        if (options.TopK > 0 && options.TopK < v)
        {
            var kth = x.TopK(options.TopK, -1).Values.Narrow(-1, options.TopK - 1, 1);      // (B, 1)
            x = x.MaskedFill(x.Lt(kth), double.NegativeInfinity);
        }
        if (options.TopP < 1)
        {
            var (sorted, order) = x.Sort(-1, descending: true);                             // (B, V) each
            var probs = sorted.Softmax(-1);
            // Drop a token when the tokens ranked above it already reach TopP.
            var remove = probs.CumSum(-1).Sub(probs).Gt(options.TopP);
            var kept = sorted.MaskedFill(remove, double.NegativeInfinity);
            x = Tensor.FullLike(x, double.NegativeInfinity).Scatter(-1, order, kept);
        }
        return scope.MoveOut(x.Softmax(-1).Multinomial(1, generator: generator).Squeeze(-1)); // (B)
    }
}
