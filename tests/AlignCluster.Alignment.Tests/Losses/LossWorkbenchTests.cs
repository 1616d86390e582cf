using System.Text.Json;
using AlignCluster.Alignment.Data;
using AlignCluster.Alignment.Losses;
using AlignCluster.Alignment.Tests.Reference;

namespace AlignCluster.Alignment.Tests.Losses;

/// <summary>The <c>aligncluster losses</c> engine: parsing, validation, and values/gradients vs the scalar
/// reference.</summary>
public class LossWorkbenchTests
{
    private static string ExamplePath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AlignCluster.sln")))
            dir = dir.Parent;
        return Path.Combine(dir!.FullName, "docs", "examples", "losses-input.json");
    }

    [Fact]
    public void DocumentedExampleRunsAndMatchesTheScalarReference()
    {
        string path = ExamplePath();
        var input = LossWorkbench.Parse(File.ReadAllText(path), path);
        var (results, skipped) = LossWorkbench.Evaluate(input);
        Assert.Empty(skipped);
        Assert.Equal(
            ["dpo", "robust", "dpop", "simpo", "cd", "pair_mnm", "list_mle", "exo_rw"],
            results.Select(r => r.Name)
        );
        var group = new ScalarGroup(
            input.Responses.Select(r => r.PolicyLogp).ToArray(),
            input.Responses.Select(r => r.ReferenceLogp!.Value).ToArray(),
            input.Responses.Select(r => r.Tokens!.Value).ToArray(),
            input.Responses.Select(r => r.Score!.Value).ToArray()
        );
        var dpo = results[0];
        Assert.Equal(ScalarLosses.Dpo(group, new ScalarHyper(Beta: 0.1)), dpo.Value, 12);
        Assert.Equal(ScalarLosses.Robust(group, new ScalarHyper(Beta: 0.1, Epsilon: 0.2)), results[1].Value, 12);
        Assert.Equal(ScalarLosses.ExoRw(group, new ScalarHyper(BetaPi: 0.5, BetaR: 0.1)), results[7].Value, 12);
        Assert.Equal(4, dpo.GradPolicyLogps.Length);
        // dpo depends on the policy only through d = ρ_w − ρ_l: the chosen's gradient balances the negatives'.
        Assert.Equal(-dpo.GradPolicyLogps[0], dpo.GradPolicyLogps.Skip(1).Sum(), 12);
        var json = JsonDocument.Parse(LossWorkbench.ToJson(input.Responses.Count, results, skipped)).RootElement;
        Assert.Equal(8, json.GetProperty("losses").GetArrayLength());
        Assert.Equal(
            0.2,
            json.GetProperty("losses")[1].GetProperty("hyperparameters").GetProperty("epsilon").GetDouble()
        );
    }

    [Fact]
    public void WithoutAListEveryApplicableLossRunsAndTheRestAreSkippedWithAReason()
    {
        var input = LossWorkbench.Parse(
            """{"responses": [{"policy_logp": -3, "reference_logp": -4}, {"policy_logp": -5, "reference_logp": -4}]}""",
            "in.json"
        );
        var (results, skipped) = LossWorkbench.Evaluate(input);
        Assert.Contains(results, r => r.Name == "dpo");
        Assert.Contains(results, r => r.Name == "exo_pref");
        Assert.Contains(skipped, s => s.Name == "ipo" && s.Reason.Contains("'tokens'"));
        Assert.Equal(LossRegistry.Names.Count(), results.Count + skipped.Count);
    }

    [Theory]
    [InlineData("""{"responses": [{"policy_logp": -3}]}""", "responses", DataErrorKind.InvalidValue)]
    [InlineData(
        """{"responses": [{"policy_logp": -3}, {"reference_logp": -3}]}""",
        "responses[1].policy_logp",
        DataErrorKind.MissingField
    )]
    [InlineData(
        """{"responses": [{"policy_logp": -3}, {"policy_logp": NaN}]}""",
        "responses[1].policy_logp",
        DataErrorKind.NonFiniteNumber
    )]
    [InlineData(
        """{"responses": [{"policy_logp": -3, "tokens": 0}, {"policy_logp": -2}]}""",
        "responses[0].tokens",
        DataErrorKind.InvalidValue
    )]
    [InlineData(
        """{"responses": [{"policy_logp": -3}, {"policy_logp": -2}], "losses": [{"beta": 1}]}""",
        "losses[0].name",
        DataErrorKind.MissingField
    )]
    [InlineData(
        """{"responses": [{"policy_logp": -3}, {"policy_logp": -2}], "losses": [{"name": "dpo", "beta": "x"}]}""",
        "losses[0].beta",
        DataErrorKind.WrongType
    )]
    public void BadInputNamesTheField(string json, string field, DataErrorKind kind)
    {
        var e = Assert.Throws<DataFormatException>(() => LossWorkbench.Parse(json, "in.json"));
        Assert.Equal(kind, e.Kind);
        Assert.Equal(field, e.Field);
        Assert.StartsWith("in.json: field", e.Message);
    }

    [Fact]
    public void MalformedJsonNamesTheLine()
    {
        var e = Assert.Throws<DataFormatException>(() => LossWorkbench.Parse("{\n\"responses\": [\n}", "in.json"));
        Assert.Equal(DataErrorKind.MalformedJson, e.Kind);
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void ARequestedLossThatCannotRunIsAnError()
    {
        var input = LossWorkbench.Parse(
            """{"responses": [{"policy_logp": -3}, {"policy_logp": -2}], "losses": ["dpo"]}""",
            "in.json"
        );
        var e = Assert.Throws<ArgumentException>(() => LossWorkbench.Evaluate(input));
        Assert.Equal("dpo: needs 'reference_logp' on every response; responses[0] has none", e.Message);
    }
}
