using System.Text.Json;
using System.Text.Json.Serialization;
using AlignCluster.Contracts;

namespace AlignCluster.Client.Demo;

/// <summary>One method's row of results.json (the schema of issue 6, exactly).</summary>
public sealed record MethodResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("seeds")] int Seeds,
    [property: JsonPropertyName("oracle_reward_mean")] double OracleRewardMean,
    [property: JsonPropertyName("oracle_reward_std")] double OracleRewardStd,
    [property: JsonPropertyName("win_rate_vs_sft")] double WinRateVsSft,
    [property: JsonPropertyName("kl_to_sft")] double KlToSft
);

/// <summary>results.json: <c>{"methods": [{"name", "seeds", "oracle_reward_mean", "oracle_reward_std",
/// "win_rate_vs_sft", "kl_to_sft"}]}</c>.</summary>
public sealed record DemoResults([property: JsonPropertyName("methods")] IReadOnlyList<MethodResult> Methods)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>
    /// Aggregates the final evaluation of every run of a method: mean and sample standard deviation (n − 1; 0 for one
    /// seed) of the oracle reward over seeds, and the seed-mean of win-rate and KL.
    /// </summary>
    public static DemoResults From(IEnumerable<(DemoMethod Method, RunStatus Status)> runs) =>
        new(
            runs.GroupBy(r => r.Method.Name)
                .Select(g =>
                {
                    var finals = g.Select(r =>
                            r.Status.History[^1].Eval
                            ?? throw new InvalidOperationException($"{r.Status.RunId} has no final evaluation")
                        )
                        .ToList();
                    double mean = finals.Average(e => e.OracleReward);
                    double std =
                        finals.Count > 1
                            ? Math.Sqrt(
                                finals.Sum(e => (e.OracleReward - mean) * (e.OracleReward - mean)) / (finals.Count - 1)
                            )
                            : 0;
                    return new MethodResult(
                        g.Key,
                        finals.Count,
                        mean,
                        std,
                        finals.Average(e => e.WinRate),
                        finals.Average(e => e.KlToReference)
                    );
                })
                .ToList()
        );

    public void Write(string path)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
        File.Move(temp, path, overwrite: true);
    }

    public static DemoResults Read(string path) =>
        JsonSerializer.Deserialize<DemoResults>(File.ReadAllText(path))
        ?? throw new InvalidDataException($"{path}: empty results");
}
