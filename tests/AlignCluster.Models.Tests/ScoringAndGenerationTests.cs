using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models.Tests;

public sealed class ScoringAndGenerationTests
{
    private static readonly ScoringRow[] Rows =
    [
        new([1, 2, 3], [4, 5]),
        new([7], [8, 9, 10, 11, 12]),
        new([20, 21, 22, 23, 24, 25], [26]),
        new([30, 31], []),
    ];

    /// <summary>
    /// Reference: each row alone (no batch, no padding) through a plain forward; log-softmax by hand in double:
    /// log p(y) = x_y − max − log Σ exp(x − max), summed over the response positions only.
    /// </summary>
    private static List<double[]> ReferencePerToken(CausalLM model, IEnumerable<ScoringRow> rows)
    {
        var result = new List<double[]>();
        using var noGrad = torch.no_grad();
        foreach (var row in rows)
        {
            using var scope = torch.NewDisposeScope();
            var seq = row.PromptIds.Concat(row.ResponseIds).Select(x => (long)x).ToArray();
            var logits = model.Forward(torch.tensor(seq, [1, seq.Length])).data<float>().ToArray(); // (1, L, V) flat
            int v = model.Config.VocabSize,
                lp = row.PromptIds.Count;
            var perToken = new double[row.ResponseIds.Count];
            for (int j = 0; j < perToken.Length; j++)
            {
                var x = logits.AsSpan((lp - 1 + j) * v, v);
                double max = double.NegativeInfinity;
                foreach (var a in x)
                    max = Math.Max(max, a);
                double sumExp = 0;
                foreach (var a in x)
                    sumExp += Math.Exp(a - max);
                perToken[j] = x[row.ResponseIds[j]] - max - Math.Log(sumExp);
            }
            result.Add(perToken);
        }
        return result;
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void BatchedLogProbsEqualIndependentPerPositionLogSoftmax(string variant)
    {
        using var model = TinyModels.Create(variant, seed: 21);
        var reference = ReferencePerToken(model.Network, Rows);
        var scores = SequenceScoring.Score(model.Network, Rows, padId: 0, batchSize: 4);
        for (int i = 0; i < Rows.Length; i++)
        {
            Assert.Equal(Rows[i].ResponseIds.Count, scores[i].Tokens);
            Assert.Equal(reference[i].Sum(), scores[i].Sum, 4);
            Assert.Equal(reference[i].Length == 0 ? 0 : reference[i].Average(), scores[i].Mean, 4);
            for (int j = 0; j < reference[i].Length; j++)
                Assert.Equal(reference[i][j], scores[i].PerToken[j], 4);
        }
    }

    [Fact]
    public void LogProbsAreDifferentiable()
    {
        using var model = TinyModels.Create("llama", seed: 22);
        model.Network.train();
        using var scope = torch.NewDisposeScope();
        using var lp = SequenceScoring.Compute(model.Network, Rows[..2]);
        lp.Sum.sum().backward();
        var grad = model.Network.state_dict()["model.layers.0.self_attn.q_proj.weight"].grad;
        Assert.NotNull(grad);
        Assert.True(grad!.abs().sum().ToDouble() > 0);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("mistral")]
    public void SharedPrefixScoringEqualsPlainScoring(string variant)
    {
        using var model = TinyModels.Create(variant, seed: 23);
        int[] prompt = [5, 6, 7, 8, 9];
        int[][] candidates =
        [
            [10, 11, 12],
            [13],
            [14, 15, 16, 17, 18, 19],
            [],
        ];
        var shared = SequenceScoring.ScoreCandidates(model.Network, prompt, candidates);
        var plain = SequenceScoring.Score(model.Network, candidates.Select(c => new ScoringRow(prompt, c)).ToList());
        for (int i = 0; i < candidates.Length; i++)
        {
            Assert.Equal(plain[i].Tokens, shared[i].Tokens);
            Assert.Equal(plain[i].Sum, shared[i].Sum, 4);
            Assert.Equal(plain[i].PerToken.Length, shared[i].PerToken.Length);
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("mistral")]
    public void ManyPromptsSharingTheirPrefixesScoreLikeOneRowPerResponse(string variant)
    {
        // Prompts of different lengths (left padding in the prompt batch), 0–3 responses each, chunks that split the
        // groups (maxResponses 4): every value must equal the plain one-row-per-(prompt, response) scoring.
        using var model = TinyModels.Create(variant, seed: 29);
        (int[] Prompt, int[][] Responses)[] groups =
        [
            (
                [5, 6, 7, 8, 9],
                [
                    [10, 11, 12],
                    [13],
                    [14, 15, 16, 17],
                ]
            ),
            (
                [3],
                [
                    [20, 21],
                    [],
                ]
            ),
            ([30, 31, 32], []),
            (
                [40, 41],
                [
                    [42, 43, 44, 45, 46, 47],
                    [48],
                    [49, 50],
                ]
            ),
        ];
        var shared = SequenceScoring.ScoreGroups(
            model.Network,
            groups.Select(g => ((IReadOnlyList<int>)g.Prompt, (IReadOnlyList<IReadOnlyList<int>>)g.Responses)).ToList(),
            maxResponses: 4
        );
        var rows = groups.SelectMany(g => g.Responses.Select(r => new ScoringRow(g.Prompt, r))).ToList();
        // unpadded, one at a time
        var plain = rows.Select(row => SequenceScoring.Score(model.Network, [row])[0]).ToList();
        Assert.Equal(plain.Count, shared.Count);
        for (int i = 0; i < plain.Count; i++)
        {
            Assert.Equal(plain[i].Tokens, shared[i].Tokens);
            Assert.Equal(plain[i].Sum, shared[i].Sum, 4);
        }
        Assert.Contains(shared, s => Math.Abs(s.Sum) > 1); // non-trivial values
    }

    [Fact]
    public void GreedyGenerationFollowsTheArgmaxOfFullForwards()
    {
        using var model = TinyModels.Create("llama", seed: 24);
        int[] prompt = [40, 41, 42];
        var generated = Generation.Generate(
            model.Network,
            [prompt],
            new GenerationOptions { MaxNewTokens = 6, Temperature = 0 }
        )[0];

        // Reference without cache: re-run the whole sequence each step and take the argmax of the last logits.
        var seq = prompt.Select(x => (long)x).ToList();
        using var noGrad = torch.no_grad();
        for (int step = 0; step < 6; step++)
        {
            using var scope = torch.NewDisposeScope();
            var logits = model.Network.Forward(torch.tensor(seq.ToArray(), [1, seq.Count]));
            seq.Add(logits.select(1, seq.Count - 1).argmax(-1).item<long>());
        }
        Assert.Equal(seq.Skip(3).Select(x => (int)x), generated.TokenIds);
        Assert.False(generated.Stopped);
    }

    [Fact]
    public void SamplingIsSeedableStopsAtStopTokensAndBatchesPrompts()
    {
        using var model = TinyModels.Create("gpt2", seed: 25);
        IReadOnlyList<int>[] prompts =
        [
            [1, 2, 3],
            [9],
        ];
        var options = new GenerationOptions
        {
            MaxNewTokens = 8,
            Temperature = 1.0,
            TopP = 0.9,
            TopK = 50,
            Seed = 7,
        };
        var a = Generation.Generate(model.Network, prompts, options);
        var b = Generation.Generate(model.Network, prompts, options);
        Assert.Equal(a.Select(x => x.TokenIds), b.Select(x => x.TokenIds));
        Assert.All(a, x => Assert.Equal(8, x.TokenIds.Count));

        // The second row generated alone (no padding) must give the same greedy tokens as inside the batch.
        var greedy = options with { Temperature = 0 };
        var batched = Generation.Generate(model.Network, prompts, greedy);
        var alone = Generation.Generate(model.Network, [prompts[1]], greedy);
        Assert.Equal(alone[0].TokenIds, batched[1].TokenIds);

        // Stopping on the first greedy token ends that row at once, without the stop token.
        var stopped = Generation.Generate(
            model.Network,
            [prompts[0]],
            greedy with
            {
                StopTokenIds = [batched[0].TokenIds[0]],
            }
        )[0];
        Assert.True(stopped.Stopped);
        Assert.Empty(stopped.TokenIds);
    }

    [Fact]
    public void TopKAndTopPKeepOnlyTheAllowedTokens()
    {
        // probabilities 0.5, 0.3, 0.15, 0.05 (logits are their logs)
        using var scope = torch.NewDisposeScope();
        var logits = torch
            .tensor(new[] { 0.5, 0.3, 0.15, 0.05 }.Select(p => (float)Math.Log(p)).ToArray(), [1, 4])
            .expand(400, 4);
        using var g = new Generator(3);
        // top-p 0.7: token 2 has 0.8 ranked above it (> 0.7) → dropped; token 1 has 0.5 above it → kept.
        var topP = Generation.Sample(logits, new GenerationOptions { TopP = 0.7 }, g).data<long>().ToArray();
        Assert.Equal([0L, 1L], topP.Distinct().Order());
        var topK = Generation.Sample(logits, new GenerationOptions { TopK = 3 }, g).data<long>().ToArray();
        Assert.Equal([0L, 1L, 2L], topK.Distinct().Order());
        Assert.All(Generation.Sample(logits, new GenerationOptions { Temperature = 0 }, g).data<long>().ToArray(), t =>
            Assert.Equal(0L, t)
        );
    }
}
