using AlignCluster.Models.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models;

/// <summary>A prompt and a response to score, as token ids (the prompt must hold at least one token, e.g.
/// BOS).</summary>
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
        if (rows.Count == 0)
            throw new ArgumentException("no rows to score", nameof(rows));
        foreach (var (row, i) in rows.Select((r, i) => (r, i)))
            if (row.PromptIds.Count == 0)
                throw new ArgumentException(
                    $"row {i}: the prompt has no tokens, so the first response token has no context (prepend BOS)"
                );

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
            int lp = rows[i].PromptIds.Count,
                lr = rows[i].ResponseIds.Count;
            for (int j = 0; j < r; j++)
            {
                gatherIndex[i * r + j] = Math.Min(lp - 1 + j, t - 2) - start;
                responseMask[i * r + j] = j < lr ? 1 : 0;
            }
        }
        bool padded = attention.Contains(0);

        var device = model.Device;
        using var scope = torch.NewDisposeScope();
        var idsT = torch.tensor(ids, [b, t], device: device); // (B, T)
        var maskT = padded ? torch.tensor(attention, [b, t], device: device) : null; // (B, T)
        var hidden = model.ForwardHidden(idsT, maskT); // (B, T, C)
        long span = Math.Max(1, t - 1 - start);
        var logits = model.Logits(hidden.narrow(1, start, span)).to_type(ScalarType.Float32); // (B, T', V)
        var targets = idsT.narrow(1, Math.Min(start + 1, t - 1), span).unsqueeze(-1); // (B, T', 1)
        // log softmax picked at the target: logit[target] − logsumexp(logits)
        var tokenLogp = logits.gather(-1, targets).squeeze(-1) - logits.logsumexp(-1); // (B, T')
        var index = torch.tensor(gatherIndex, [b, r], device: device); // (B, R)
        var mask = torch.tensor(responseMask, [b, r], device: device); // (B, R)
        var perToken = tokenLogp.gather(1, index) * mask; // (B, R)
        var sum = perToken.sum(1); // (B)
        var count = mask.sum(1); // (B)
        var mean = sum / count.clamp_min(1); // (B)
        return new SequenceLogProbs
        {
            Sum = sum.MoveToOuterDisposeScope(),
            Mean = mean.MoveToOuterDisposeScope(),
            TokenCount = count.MoveToOuterDisposeScope(),
            PerToken = perToken.MoveToOuterDisposeScope(),
            Mask = mask.MoveToOuterDisposeScope(),
        };
    }

    /// <summary>Scores rows without gradients in batches of <paramref name="batchSize"/>.</summary>
    public static List<SequenceScore> Score(
        CausalLM model,
        IReadOnlyList<ScoringRow> rows,
        int padId = 0,
        int batchSize = 8
    )
    {
        var results = new List<SequenceScore>(rows.Count);
        using var noGrad = torch.no_grad();
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
    public static List<SequenceScore> ScoreCandidates(
        CausalLM model,
        IReadOnlyList<int> promptIds,
        IReadOnlyList<IReadOnlyList<int>> responses,
        int padId = 0
    )
    {
        if (promptIds.Count == 0)
            throw new ArgumentException("the prompt has no tokens (prepend BOS)", nameof(promptIds));
        return ScoreGroups(model, [(promptIds, responses)], padId, maxResponses: int.MaxValue);
    }

    /// <summary>
    /// Scores the responses of many prompts with every prompt run through the model once: prompts left-padded into one
    /// batch with a KV cache, the cache fanned out to each prompt's responses (<see cref="KvCache.SelectRows"/>), then
    /// all responses in one right-padded batch. Chunks hold at most <paramref name="maxResponses"/> responses. Same
    /// values as <see cref="Score"/> on (prompt, response) rows; the prompt work drops from one pass per response to
    /// one per prompt. Returns the scores in input order (group by group).
    /// </summary>
    public static List<SequenceScore> ScoreGroups(
        CausalLM model,
        IReadOnlyList<(IReadOnlyList<int> Prompt, IReadOnlyList<IReadOnlyList<int>> Responses)> groups,
        int padId = 0,
        int maxResponses = 256
    )
    {
        var results = new List<SequenceScore>();
        int start = 0;
        while (start < groups.Count)
        {
            int end = start,
                rows = 0;
            do
            {
                rows += groups[end].Responses.Count;
                end++;
            } while (end < groups.Count && rows + groups[end].Responses.Count <= maxResponses);
            results.AddRange(ScoreGroupChunk(model, groups.Skip(start).Take(end - start).ToList(), padId));
            start = end;
        }
        return results;
    }

    private static List<SequenceScore> ScoreGroupChunk(
        CausalLM model,
        List<(IReadOnlyList<int> Prompt, IReadOnlyList<IReadOnlyList<int>> Responses)> groups,
        int padId
    )
    {
        var responses = groups.SelectMany(g => g.Responses).ToList();
        if (responses.Count == 0)
            return [];
        foreach (var (g, i) in groups.Select((g, i) => (g, i)))
            if (g.Prompt.Count == 0)
                throw new ArgumentException($"group {i}: the prompt has no tokens (prepend BOS)", nameof(groups));
        int p = groups.Count,
            lp = groups.Max(g => g.Prompt.Count),
            n = responses.Count,
            r = Math.Max(1, responses.Max(x => x.Count));
        var promptIds = new long[p * lp];
        var promptMask = new long[p * lp];
        for (int i = 0; i < p; i++)
        {
            int pad = lp - groups[i].Prompt.Count; // left padding: every prompt's last token sits in column lp − 1
            for (int j = 0; j < lp; j++)
            {
                promptIds[i * lp + j] = j < pad ? padId : groups[i].Prompt[j - pad];
                promptMask[i * lp + j] = j < pad ? 0 : 1;
            }
        }
        var owner = new long[n];
        var ids = new long[n * r];
        var mask = new long[n * (lp + r)];
        for (int i = 0, row = 0; i < p; i++)
            foreach (var response in groups[i].Responses)
            {
                owner[row] = i;
                Array.Copy(promptMask, i * lp, mask, row * (lp + r), lp);
                for (int j = 0; j < r; j++)
                {
                    bool real = j < response.Count;
                    ids[row * r + j] = real ? response[j] : padId;
                    mask[row * (lp + r) + lp + j] = real ? 1 : 0;
                }
                row++;
            }

        var device = model.Device;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        using var promptCache = new KvCache(model.Config.NumLayers);
        var promptMaskT = torch.tensor(promptMask, [p, lp], device: device); // (P, Lp)
        var promptHidden = model.ForwardHidden(
            torch.tensor(promptIds, [p, lp], device: device),
            promptMask.Contains(0) ? promptMaskT : null,
            promptCache
        ); // (P, Lp, C)
        var firstLogits = model.Logits(promptHidden.narrow(1, lp - 1, 1)).to_type(ScalarType.Float32); // (P, 1, V)
        var ownerT = torch.tensor(owner, device: device); // (N)
        using var cache = promptCache.SelectRows(ownerT);
        var respIds = torch.tensor(ids, [n, r], device: device); // (N, R)
        var fullMask = torch.tensor(mask, [n, lp + r], device: device); // (N, Lp + R)
        var hidden = model.ForwardHidden(respIds, fullMask, cache); // (N, R, C)
        var first = firstLogits.index_select(0, ownerT); // (N, 1, V)
        var logits =
            // (N, R, V)
            r > 1
                ? torch.cat([first, model.Logits(hidden.narrow(1, 0, r - 1)).to_type(ScalarType.Float32)], 1)
                : first;
        var tokenLogp = logits.gather(-1, respIds.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1); // (N, R)
        var respMask = fullMask.narrow(1, lp, r).to_type(ScalarType.Float32); // (N, R)
        var perToken = tokenLogp * respMask;
        using var lpOut = new SequenceLogProbs
        {
            Sum = perToken.sum(1),
            TokenCount = respMask.sum(1),
            Mean = perToken.sum(1) / respMask.sum(1).clamp_min(1),
            PerToken = perToken,
            Mask = respMask,
        };
        return ToScores(lpOut, responses.Select(x => x.Count).ToList());
    }

    private static List<SequenceScore> ToScores(SequenceLogProbs lp, List<int> lengths)
    {
        using var scope = torch.NewDisposeScope();
        var sums = lp.Sum.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        var perToken = lp.PerToken.cpu().data<float>().ToArray();
        long r = lp.PerToken.shape[1];
        return lengths
            .Select(
                (n, i) =>
                    new SequenceScore(sums[i], n == 0 ? 0 : sums[i] / n, n, perToken.AsSpan((int)(i * r), n).ToArray())
            )
            .ToList();
    }
}
