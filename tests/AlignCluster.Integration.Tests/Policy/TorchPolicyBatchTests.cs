using AlignCluster.Contracts;
using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Policy;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Integration.Tests.Policy;

/// <summary>
/// The transformer policy's batched paths against one-sequence-at-a-time references: batched greedy decoding (left
/// padding, attention mask, KV cache) against an argmax loop over plain unpadded, uncached forwards; the fused
/// log-probs-and-gradient pass against scoring followed by a separate back-propagation.
/// </summary>
public class TorchPolicyBatchTests
{
    private static TorchPolicy Create(string kind) =>
        (TorchPolicy)
            PolicyFactory.Create(
                new PolicySpec(kind, null, MaxPromptLength: 6, MaxResponseLength: 7, Seed: 5, WeightDecay: 0.01)
            );

    private static readonly int[][] Prompts = new[] { "123", "98765", "4040", "7", "605521" }
        .Select(ToyVocabulary.Encode)
        .ToArray();

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void BatchedGreedyDecodingEqualsAnArgmaxLoopOverUnpaddedForwards(string kind)
    {
        using var policy = Create(kind);
        // Train a few steps toward "reverse" so the greedy paths differ per prompt and some reach the end token.
        var demos = Prompts
            .Select(p => new Sequence(
                p,
                ToyVocabulary.EncodeResponse(string.Concat(ToyVocabulary.Decode(p).Reverse()))
            ))
            .ToList();
        for (int step = 0; step < 30; step++)
        {
            policy.AccumulateGradient(demos, demos.Select(_ => -1.0).ToArray());
            policy.OptimizerStep(1e-2);
        }
        var batched = policy.SampleBatch(
            Prompts,
            Prompts.Select((_, i) => (ulong)i).ToList(),
            temperature: 0,
            maxNewTokens: 7
        );

        for (int i = 0; i < Prompts.Length; i++)
        {
            // Independent reference: feed BOS + prompt + tokens so far, unpadded and without a cache; take the argmax.
            var expected = new List<int>();
            for (int step = 0; step < 7; step++)
            {
                int[] ids = [ToyVocabulary.Bos, .. Prompts[i], .. expected];
                float[] last;
                using (torch.no_grad())
                using (var scope = torch.NewDisposeScope())
                {
                    var logits = policy.Network.Forward(
                        torch.tensor(ids.Select(x => (long)x).ToArray(), 1, ids.Length)
                    ); // (1, T, V)
                    last = logits.select(1, ids.Length - 1).data<float>().ToArray(); // (V)
                }
                int token = Array.IndexOf(last, last.Max());
                expected.Add(token);
                if (token == ToyVocabulary.Eos)
                    break;
            }
            Assert.Equal(expected, batched[i]);
        }
        Assert.Contains(batched, r => r.Length > 0 && r[^1] == ToyVocabulary.Eos); // the stop token is kept in the response
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void CandidatesSharingAPromptScoreAsTheyDoOneByOne(string kind)
    {
        using var policy = Create(kind);
        // A trainer's batch: each prompt's candidates next to each other (their prompt runs once), prompts of several
        // lengths.
        var sequences = Prompts
            .SelectMany(
                (p, i) =>
                    new[] { "1", "22", "333", "4444" }
                        .Take(i % 3 + 1)
                        .Select(r => new Sequence(p, ToyVocabulary.EncodeResponse(r)))
            )
            .ToList();
        var batched = policy.LogProbs(sequences);
        for (int i = 0; i < sequences.Count; i++)
            Assert.Equal(policy.LogProbs([sequences[i]])[0], batched[i], 4); // reference: one unpadded row at a time
    }

    [Fact]
    public void BatchedSamplingIsDeterministicPerRequestAndRespectsTheBudget()
    {
        using var policy = Create("gpt2");
        var seeds = Prompts.Select((_, i) => 100UL + (ulong)i).ToList();
        var first = policy.SampleBatch(Prompts, seeds, temperature: 1.5, maxNewTokens: 5);
        var again = policy.SampleBatch(Prompts, seeds, temperature: 1.5, maxNewTokens: 5);
        var other = policy.SampleBatch(
            Prompts,
            seeds.Select(s => s + 1000).ToList(),
            temperature: 1.5,
            maxNewTokens: 5
        );
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        foreach (var response in first)
        {
            Assert.InRange(response.Length, 1, 5);
            Assert.DoesNotContain(ToyVocabulary.Eos, response[..^1]); // an end token only ever closes a response
        }
        Assert.Throws<ArgumentException>(() => policy.SampleBatch(Prompts, seeds.Take(2).ToList(), 1.0, 5));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void FusedLogProbsAndGradientEqualScoringThenAccumulating(string kind)
    {
        var sequences = Prompts
            .Select((p, i) => new Sequence(p, ToyVocabulary.EncodeResponse(new string('3', i + 1))))
            .ToList();
        // A loss gradient that depends on the log-probs, as a preference loss does: w_i = −softmax(logp)_i.
        static double[] LossGradient(double[] logps)
        {
            double max = logps.Max(),
                sum = logps.Sum(l => Math.Exp(l - max));
            return logps.Select(l => -Math.Exp(l - max) / sum).ToArray();
        }

        using var fused = Create(kind);
        using var separate = Create(kind);
        var fusedLogps = fused.LogProbsAndGradient(sequences, LossGradient);
        var separateLogps = separate.LogProbs(sequences);
        separate.AccumulateGradient(sequences, LossGradient(separateLogps));
        for (int i = 0; i < sequences.Count; i++)
            Assert.Equal(separateLogps[i], fusedLogps[i], 5);

        using var scope = torch.NewDisposeScope();
        var separateGrads = separate
            .Network.named_parameters()
            .ToDictionary(p => p.Item1, p => p.Item2.grad!.data<float>().ToArray());
        foreach (var (name, parameter) in fused.Network.named_parameters())
        {
            var g = parameter.grad!.data<float>().ToArray();
            var e = separateGrads[name];
            double scale = Math.Max(1e-6, e.Max(x => Math.Abs(x)));
            Assert.True(
                g.Zip(e).All(p => Math.Abs(p.First - p.Second) <= 1e-4 * scale),
                $"{kind} {name}: fused gradient differs"
            );
        }
        Assert.True(fused.OptimizerStep(1e-3) > 0);
    }
}
