using AlignCluster.Alignment.Losses;
using AlignCluster.Alignment.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Tests.Losses;

/// <summary>
/// Every tensor loss against the independent scalar reference (values), and its autograd gradient against central
/// finite differences of the scalar reference (float64).
/// </summary>
public class LossAgreementTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in LossRegistry.Names)
        {
            data.Add(name, 2);
            if (name != "exo_pref")
                data.Add(name, 4); // exo_pref is defined for K = 2 only
        }
        return data;
    }

    /// <summary>A per-loss seed that is the same in every run (string.GetHashCode is randomised per process).</summary>
    private static int StableSeed(string loss) => loss.Aggregate(17, (h, c) => h * 31 + c);

    [Fact]
    public void RegistryAndReferenceCoverTheSameLosses() =>
        Assert.Equal(ScalarLosses.ByName.Keys.Order(), LossRegistry.Names.Order());

    [Theory]
    [MemberData(nameof(Cases))]
    public void ValueMatchesScalarReference(string loss, int responses)
    {
        using var scope = torch.NewDisposeScope();
        var fixture = LossFixture.Random(seed: StableSeed(loss) + responses, prompts: 3, responses);
        var spec = LossRegistry.Get(loss);
        var perPrompt = spec.ComputePerPrompt(fixture.Batch(fixture.PolicyTensor()), LossHypers.For(spec))
            .data<double>()
            .ToArray();
        Assert.Equal(3, perPrompt.Length);
        for (int b = 0; b < 3; b++)
        {
            double expected = ScalarLosses.ByName[loss](fixture.Group(b), LossHypers.Scalar);
            Assert.True(
                Math.Abs(perPrompt[b] - expected) <= 1e-10 * Math.Max(1, Math.Abs(expected)),
                $"{loss} K={responses} prompt {b}: tensor {perPrompt[b]:R}, scalar {expected:R}"
            );
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientMatchesFiniteDifferences(string loss, int responses)
    {
        using var scope = torch.NewDisposeScope();
        var fixture = LossFixture.Random(seed: 1000 + StableSeed(loss) + responses, prompts: 2, responses);
        var spec = LossRegistry.Get(loss);
        var policy = fixture.PolicyTensor(requiresGrad: true);
        spec.Compute(fixture.Batch(policy), LossHypers.For(spec)).backward();
        var gradient = policy.grad!.data<double>().ToArray();

        const double h = 1e-5;
        for (int i = 0; i < fixture.Policy.Length; i++)
        {
            var plus = (double[])fixture.Policy.Clone();
            var minus = (double[])fixture.Policy.Clone();
            plus[i] += h;
            minus[i] -= h;
            double numeric =
                (fixture.ScalarMean(loss, LossHypers.Scalar, plus) - fixture.ScalarMean(loss, LossHypers.Scalar, minus))
                / (2 * h);
            // Central differences err by O(h²·f''') plus rounding O(ε·f/h) ≈ 1e-11·|f|: 1e-6 absolute + relative is
            // ample.
            Assert.True(
                Math.Abs(gradient[i] - numeric) <= 1e-6 * Math.Max(1, Math.Abs(numeric)),
                $"{loss} K={responses} d/dpolicy[{i}]: autograd {gradient[i]:R}, finite difference {numeric:R}"
            );
        }
    }
}
