using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Policy;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>The demo policy: log-probs are normalised, gradients match finite differences, save/load is
/// exact.</summary>
public class ToyPolicyTests
{
    private static ToyPolicy Trained(out int[] prompt)
    {
        var policy = new ToyPolicy(maxPromptLength: 4, maxResponseLength: 5);
        prompt = ToyVocabulary.Encode("3141");
        var response = ToyVocabulary.EncodeResponse("1413");
        // A few steps so the weights are not all zero (all-zero is a uniform policy).
        for (int i = 0; i < 5; i++)
        {
            policy.AccumulateGradient([new Sequence(prompt, response)], [-1.0]);
            policy.OptimizerStep(0.1);
        }
        return policy;
    }

    [Fact]
    public void ProbabilitiesOfAllOneTokenResponsesSumToOne()
    {
        // Σ_v π(v | prompt) over every first token = 1; responses that stop at once are [eos], others continue,
        // so summing exp(logp([v])) over all v checks the first-step softmax independently of the sampler.
        var policy = Trained(out var prompt);
        double total = Enumerable.Range(0, ToyVocabulary.Size).Sum(v => Math.Exp(policy.LogProb(prompt, [v])));
        Assert.Equal(1.0, total, 10);
    }

    [Fact]
    public void AccumulatedGradientMatchesFiniteDifferencesOfLogProb()
    {
        var policy = Trained(out var prompt);
        var response = ToyVocabulary.EncodeResponse("1403");
        policy.AccumulateGradient([new Sequence(prompt, response)], [1.0]);
        var gradient = policy.Gradient.ToArray();
        var state = policy.Save();
        var weights = state.Tensors.Single(t => t.Name == "weight");
        // Check the largest-magnitude coordinates (the active features) and one inactive one (gradient 0).
        var indices = Enumerable
            .Range(0, gradient.Length)
            .OrderByDescending(i => Math.Abs(gradient[i]))
            .Take(6)
            .Append(Array.FindIndex(gradient, g => g == 0))
            .ToList();
        foreach (int index in indices)
        {
            double Perturbed(float delta)
            {
                var values = (float[])weights.Values.Clone();
                values[index] += delta;
                var copy = new ToyPolicy(4, 5);
                copy.Load(state with { Tensors = [weights with { Values = values }] });
                return copy.LogProb(prompt, response);
            }
            double numeric = (Perturbed(1e-2f) - Perturbed(-1e-2f)) / 2e-2;
            Assert.True(
                Math.Abs(numeric - gradient[index]) < 2e-3,
                $"weight {index}: analytic {gradient[index]}, numeric {numeric}"
            );
        }
    }

    [Fact]
    public void SaveThenLoadGivesIdenticalLogProbsAndContinuesIdentically()
    {
        var a = Trained(out var prompt);
        var b = new ToyPolicy(4, 5);
        b.Load(a.Save());
        var response = ToyVocabulary.EncodeResponse("1413");
        Assert.Equal(a.LogProb(prompt, response), b.LogProb(prompt, response));
        // The optimizer state travels too: one more identical step keeps them bit-identical.
        foreach (var p in new[] { a, b })
        {
            p.AccumulateGradient([new Sequence(prompt, response)], [-1.0]);
            p.OptimizerStep(0.1);
        }
        Assert.Equal(a.LogProb(prompt, response), b.LogProb(prompt, response));
    }

    [Fact]
    public void OracleRewardIsTheFractionOfRightPositions()
    {
        Assert.Equal(1.0, ReverseDigitsTask.Reward("123", "321"));
        Assert.Equal(2.0 / 3, ReverseDigitsTask.Reward("123", "301"), 12); // positions 0 and 2 right
        Assert.Equal(0.75, ReverseDigitsTask.Reward("123", "3210"), 12); // 3 right of max(3, 4)
        Assert.Equal(0.0, ReverseDigitsTask.Reward("123", ""), 12);
    }
}
