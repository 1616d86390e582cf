using AlignCluster.Alignment.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Tests.Losses;

public class LossRegistryTests
{
    [Fact]
    public void DocumentedDefaults()
    {
        Assert.Equal(0.1, LossRegistry.Get("dpo").Resolve()["beta"]);
        Assert.Equal(50, LossRegistry.Get("dpop").Resolve()["lambda"]);
        Assert.Equal(1e-3, LossRegistry.Get("exo_pref").Resolve()["epsilon"]);
        Assert.Equal(0.5, LossRegistry.Get("exo_rw").Resolve()["beta_pi"]);
        Assert.Equal(0.1, LossRegistry.Get("exo_rw").Resolve()["beta_r"]);
        Assert.Empty(LossRegistry.Get("pair_mnm").Resolve().Values);
        Assert.Equal(0.7, LossRegistry.Get("DPO").Resolve(new Dictionary<string, double> { ["beta"] = 0.7 })["beta"]);
    }

    [Fact]
    public void BadNamesAndValuesAreClearErrors()
    {
        Assert.Contains("known: dpo", Assert.Throws<ArgumentException>(() => LossRegistry.Get("dop")).Message);
        Assert.Contains(
            "unknown hyper-parameter 'gamma'",
            Assert
                .Throws<ArgumentException>(() =>
                    LossRegistry.Get("dpo").Resolve(new Dictionary<string, double> { ["gamma"] = 1 })
                )
                .Message
        );
        Assert.Contains(
            "takes no hyper-parameters",
            Assert
                .Throws<ArgumentException>(() =>
                    LossRegistry.Get("list_mle").Resolve(new Dictionary<string, double> { ["beta"] = 1 })
                )
                .Message
        );
        Assert.Contains(
            "beta must be in > 0",
            Assert
                .Throws<ArgumentException>(() =>
                    LossRegistry.Get("dpo").Resolve(new Dictionary<string, double> { ["beta"] = 0 })
                )
                .Message
        );
        Assert.Contains(
            "epsilon must be in [0, 0.5)",
            Assert
                .Throws<ArgumentException>(() =>
                    LossRegistry.Get("robust").Resolve(new Dictionary<string, double> { ["epsilon"] = 0.5 })
                )
                .Message
        );
    }

    [Fact]
    public void MissingInputsAndWrongShapesNameTheLoss()
    {
        using var scope = torch.NewDisposeScope();
        var policy = torch.tensor(new double[] { -1.0, -2, -3, -4, -5, -6 }, [2, 3]);
        Assert.Contains(
            "dpo: needs reference log-probs",
            Assert.Throws<ArgumentException>(() => LossRegistry.Get("dpo").Compute(new LossBatch(policy))).Message
        );
        Assert.Contains(
            "list_mle: needs token counts",
            Assert.Throws<ArgumentException>(() => LossRegistry.Get("list_mle").Compute(new LossBatch(policy))).Message
        );
        Assert.Contains(
            "exo_pref: needs exactly 2 responses",
            Assert
                .Throws<ArgumentException>(() => LossRegistry.Get("exo_pref").Compute(new LossBatch(policy, policy)))
                .Message
        );
        var single = torch.tensor(new double[] { -1.0, -2 }, [2, 1]);
        Assert.Contains(
            "cd: needs at least 2 responses",
            Assert
                .Throws<ArgumentException>(() => LossRegistry.Get("cd").Compute(new LossBatch(single, single)))
                .Message
        );
        Assert.Contains(
            "reference log-probs have shape [3, 2]",
            Assert
                .Throws<ArgumentException>(() =>
                    LossRegistry.Get("dpo").Compute(new LossBatch(policy, policy.reshape(3, 2)))
                )
                .Message
        );
    }

    [Fact]
    public void LossesReleaseTheirIntermediates()
    {
        using var outer = torch.NewDisposeScope();
        var fixture = LossFixture.Random(3, 2, 4);
        var batch = fixture.Batch(fixture.PolicyTensor());
        int before = outer.DisposablesCount;
        LossRegistry.Get("list_mle").Compute(batch);
        Assert.Equal(before + 1, outer.DisposablesCount); // only the result joins the caller's scope
    }
}
