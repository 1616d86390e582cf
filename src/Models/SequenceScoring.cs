using AlignCluster.Models.Nn;
using AlignCluster.Torch;

namespace AlignCluster.Models;

/// <summary>A prompt and a response to score, as token ids (the prompt must hold at least one token, e.g. BOS).</summary>
public sealed record ScoringRow(IReadOnlyList<int> PromptIds, IReadOnlyList<int> ResponseIds);

/// <summary>
/// Log-probabilities of a batch of responses given their prompts, as tensors (differentiable when computed with
/// grad enabled). R is the longest response; column j of <see cref="PerToken"/> is response token j.
/// </summary>
public sealed class SequenceLogProbs : IDisposable
{
    /// <summary>(B) Σ_j log π(y_j | x, y_&lt;j) over response tokens.</summary>
    public required Tensor Sum { get; init; }
    /// <summary>(B) <see cref="Sum"/> / <see cref="TokenCount"/> (0 for an empty response).</summary>
    public required Tensor Mean { get; init; }
    /// <summary>(B) float number of response tokens.</summary>
    public required Tensor TokenCount { get; init; }
    /// <summary>(B, R) per-token log-probs, 0 past each response's end.</summary>
    public required Tensor PerToken { get; init; }
    /// <summary>(B, R) float, 1 for real response tokens.</summary>
    public required Tensor Mask { get; init; }

    public void Dispose()
    {
        Sum.Dispose();
        Mean.Dispose();
        TokenCount.Dispose();
        PerToken.Dispose();
        Mask.Dispose();
    }
}

/// <summary>One scored response: sum and mean of its token log-probs, token count and the per-token values.</summary>
public sealed record SequenceScore(double Sum, double Mean, int Tokens, float[] PerToken);

/// <summary>Batched, padded log-probabilities of responses under a causal LM; prompt tokens are never scored.</summary>
public static class SequenceScoring
{
    /// <summary>
    /// Scores every row in one padded batch (right padding; positions count real tokens). Gradients flow when
    /// autograd is enabled, so trainers use this for policy log-probs.
    /// </summary>
    public static SequenceLogProbs Compute(CausalLM model, IReadOnlyList<ScoringRow> rows, int padId = 0)
    {
        if (rows.Count == 0) throw new ArgumentException("no rows to score", nameof(rows));
        foreach (var (row, i) in rows.Select((r, i) => (r, i)))
            if (row.PromptIds.Count == 0)
                throw new ArgumentException($"row {i}: the prompt has no tokens, so the first response token has no context (prepend BOS)");

        int b = rows.Count;
        int t = Math.Max(2, rows.Max(r => r.PromptIds.Count + r.ResponseIds.Count)); // ≥ 2 so one prediction exists
        int r = Math.Max(1, rows.Max(x => x.ResponseIds.Count));
        int start = rows.Min(x => x.PromptIds.Count) - 1; // first position whose logits are needed
        var ids = new long[b * t];
        var attention = new long[b * t];
        var gatherIndex = new long[b * r];
        var responseMask = new float[b * r];
        for (int i = 0; i < b; i++)
        {
            var seq = rows[i].PromptIds.Concat(rows[i].ResponseIds).ToArray();
            for (int j = 0; j < t; j++)
            {
                ids[i * t + j] = j < seq.Length ? seq[j] : padId;
                attention[i * t + j] = j < seq.Length ? 1 : 0;
            }
            // Response token j sits at position Lp + j and is predicted by the logits at Lp + j − 1.
            int lp = rows[i].PromptIds.Count, lr = rows[i].ResponseIds.Count;
            for (int j = 0; j < r; j++)
            {
                gatherIndex[i * r + j] = Math.Min(lp - 1 + j, t - 2) - start;
                responseMask[i * r + j] = j < lr ? 1 : 0;
            }
        }
        bool padded = attention.Contains(0);

        var device = model.DeviceOfParameters();
        using var scope = DisposeScope.Begin();
        var idsT = Tensor.From<long>(ids, b, t).To(device);                                  // (B, T)
        var maskT = padded ? Tensor.From<long>(attention, b, t).To(device) : null;           // (B, T)
        var hidden = model.ForwardHidden(idsT, maskT);                                      // (B, T, C)
        long span = Math.Max(1, t - 1 - start);
        var logits = model.Logits(hidden.Narrow(1, start, span)).To(DType.Float32);         // (B, T', V)
        var targets = idsT.Narrow(1, Math.Min(start + 1, t - 1), span).Unsqueeze(-1);        // (B, T', 1)
        // log softmax picked at the target: logit[target] − logsumexp(logits)
        var tokenLogp = logits.Gather(-1, targets).Squeeze(-1).Sub(logits.LogSumExp(-1));  // (B, T')
        var index = Tensor.From<long>(gatherIndex, b, r).To(device);                         // (B, R)
        var mask = Tensor.From<float>(responseMask, b, r).To(device);                        // (B, R)
        var perToken = tokenLogp.Gather(1, index).Mul(mask);                                 // (B, R)
        var sum = perToken.Sum(1);                                                           // (B)
        var count = mask.Sum(1);                                                             // (B)
        var mean = sum.Div(count.ClampMin(1));                                               // (B)
        return new SequenceLogProbs
        {
            Sum = scope.MoveOut(sum), Mean = scope.MoveOut(mean), TokenCount = scope.MoveOut(count),
            PerToken = scope.MoveOut(perToken), Mask = scope.MoveOut(mask),
        };
    }

    /// <summary>Scores rows without gradients in batches of <paramref name="batchSize"/>.</summary>
    public static List<SequenceScore> Score(CausalLM model, IReadOnlyList<ScoringRow> rows, int padId = 0, int batchSize = 8)
    {
        var results = new List<SequenceScore>(rows.Count);
        using var noGrad = Autograd.NoGrad();
        for (int i = 0; i < rows.Count; i += batchSize)
        {
            var batch = rows.Skip(i).Take(batchSize).ToList();
            using var lp = Compute(model, batch, padId);
            results.AddRange(ToScores(lp, batch.Select(x => x.ResponseIds.Count).ToList()));
        }
        return results;
    }

    /// <summary>
    /// Scores K responses to one prompt, running the prompt through the model once and reusing its keys/values for
    /// every candidate (the prefix is computed once instead of K times). Same values as <see cref="Score"/>.
    /// </summary>
    public static List<SequenceScore> ScoreCandidates(CausalLM model, IReadOnlyList<int> promptIds, IReadOnlyList<IReadOnlyList<int>> responses, int padId = 0)
    {
        if (promptIds.Count == 0) throw new ArgumentException("the prompt has no tokens (prepend BOS)", nameof(promptIds));
        int k = responses.Count, lp = promptIds.Count, r = Math.Max(1, responses.Max(x => x.Count));
        var device = model.DeviceOfParameters();
        using var noGrad = Autograd.NoGrad();
        using var scope = DisposeScope.Begin();
        using var promptCache = new KvCache(model.Config.NumLayers);
        var prompt = Tensor.From<long>(promptIds.Select(x => (long)x).ToArray(), 1, lp).To(device);           // (1, Lp)
        var promptHidden = model.ForwardHidden(prompt, null, promptCache);                                   // (1, Lp, C)
        var firstLogits = model.Logits(promptHidden.Narrow(1, lp - 1, 1)).To(DType.Float32);                 // (1, 1, V)

        var ids = new long[k * r];
        var attention = new long[k * (lp + r)];
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < lp; j++) attention[i * (lp + r) + j] = 1;
            for (int j = 0; j < r; j++)
            {
                bool real = j < responses[i].Count;
                ids[i * r + j] = real ? responses[i][j] : padId;
                attention[i * (lp + r) + lp + j] = real ? 1 : 0;
            }
        }
        using var cache = promptCache.Repeat(k);
        var respIds = Tensor.From<long>(ids, k, r).To(device);                                               // (K, R)
        var mask = Tensor.From<long>(attention, k, lp + r).To(device);                                       // (K, Lp + R)
        var hidden = model.ForwardHidden(respIds, mask, cache);                                              // (K, R, C)
        var logits = r > 1
            ? Tensor.Cat([firstLogits.Expand(k, 1, firstLogits.Size(-1)), model.Logits(hidden.Narrow(1, 0, r - 1)).To(DType.Float32)], 1)
            : firstLogits.Expand(k, 1, firstLogits.Size(-1));                                                // (K, R, V)
        var tokenLogp = logits.Gather(-1, respIds.Unsqueeze(-1)).Squeeze(-1).Sub(logits.LogSumExp(-1));     // (K, R)
        var respMask = mask.Narrow(1, lp, r).To(DType.Float32);                                              // (K, R)
        var perToken = tokenLogp.Mul(respMask);
        using var lpOut = new SequenceLogProbs
        {
            Sum = scope.MoveOut(perToken.Sum(1)), TokenCount = scope.MoveOut(respMask.Sum(1)),
            Mean = scope.MoveOut(perToken.Sum(1).Div(respMask.Sum(1).ClampMin(1))),
            PerToken = scope.MoveOut(perToken), Mask = scope.MoveOut(respMask),
        };
        return ToScores(lpOut, responses.Select(x => x.Count).ToList()).ToList();
    }

    private static List<SequenceScore> ToScores(SequenceLogProbs lp, List<int> lengths)
    {
        using var scope = DisposeScope.Begin();
        var sums = lp.Sum.To(DType.Float64).Cpu().ToArray<double>();
        var perToken = lp.PerToken.Cpu().ToArray<float>();
        long r = lp.PerToken.Size(1);
        return lengths.Select((n, i) => new SequenceScore(sums[i], n == 0 ? 0 : sums[i] / n, n,
            perToken.AsSpan((int)(i * r), n).ToArray())).ToList();
    }
}
