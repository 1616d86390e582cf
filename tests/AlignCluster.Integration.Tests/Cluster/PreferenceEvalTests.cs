using AlignCluster.Contracts;
using AlignCluster.Grains.Coordinator;
using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Training;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>Held-out preference accuracy and the point losses' [0, 1] scores, against values worked out by
/// hand.</summary>
public class PreferenceEvalTests
{
    /// <summary>A trainer that only scores, from fixed tables (policy and reference log-probs per prompt).</summary>
    private sealed class TableTrainer(Dictionary<string, double[]> policy, Dictionary<string, double[]> reference)
        : ITrainerGrain
    {
        public List<string[]> ReferenceCalls { get; } = [];

        public Task<GroupScores[]> ScoreAsync(PromptGroup[] groups, bool reference_)
        {
            if (reference_)
                ReferenceCalls.Add(groups.Select(g => g.PromptId).ToArray());
            return Task.FromResult(
                groups.Select(g => new GroupScores(g.PromptId, (reference_ ? reference : policy)[g.PromptId])).ToArray()
            );
        }

        public Task InitializeAsync(PolicySpec policy) => throw new NotSupportedException();

        public Task<SftReport> SupervisedFineTuneAsync(SftRequest request) => throw new NotSupportedException();

        public Task<TrainReport> TrainAsync(TrainRequest request) => throw new NotSupportedException();

        public Task<int> CacheReferenceAsync(string[] shards) => throw new NotSupportedException();

        public Task<CandidateReport> PrepareCandidatesAsync(CandidateRequest request) =>
            throw new NotSupportedException();

        public Task<MergeReport> GenerateCandidatesAsync(OnlineRequest request) => throw new NotSupportedException();

        public Task<EvalResult> EvaluateSamplesAsync(SampleEvalRequest request) => throw new NotSupportedException();

        public Task<CheckpointInfo> CheckpointAsync(string runId, int round) => throw new NotSupportedException();

        public Task ReleaseAsync() => throw new NotSupportedException();

        public Task<bool> RestoreAsync(string runId, int round) => throw new NotSupportedException();

        public Task<Rendezvous> OpenRendezvousAsync(string groupId, int worldSize) => throw new NotSupportedException();

        public Task JoinGroupAsync(TrainerGroupSpec spec) => throw new NotSupportedException();

        public Task<string?> CurrentGroupAsync() => throw new NotSupportedException();
    }

    private static Candidate C(double rating, double? reference = null) => new("c", [1], rating, reference);

    [Fact]
    public async Task AccuracyAndMarginsMatchAHandComputation()
    {
        // Prompt a: reference cached, chosen first. Prompt b: nothing cached, chosen is index 1, c2 ties the chosen (no
        // pair).
        var a = new PromptGroup("a", [1], [C(1, -2), C(0, -3), C(0.5, -1)], 0);
        var b = new PromptGroup("b", [1], [C(2), C(3), C(3)], 1);
        var trainer = new TableTrainer(
            policy: new() { ["a"] = [-1, -4, -1.5], ["b"] = [-1, -2, 0] },
            reference: new() { ["a"] = [100, 100, 100], ["b"] = [-2, -1, -5] }
        ); // a's must come from its cache
        var result = await PolicyEvaluation.PreferenceAccuracyAsync(trainer, [a, b], beta: 0.5);

        // By hand, r = 0.5·(policy − reference): a: chosen 0.5 vs −0.5 and −0.25 (two wins); b: chosen −0.5 vs 0.5 (a
        // loss).
        Assert.Equal(3, result.Pairs);
        Assert.Equal(2.0 / 3, result.Accuracy, 12);
        Assert.Equal((1.0 + 0.75 - 1.0) / 3, result.MeanMargin, 12);
        Assert.Equal((0.5 + 0.5 - 0.5) / 3, result.MeanChosenReward, 12);
        Assert.Equal((-0.5 - 0.25 + 0.5) / 3, result.MeanRejectedReward, 12);
        Assert.Equal(["b"], Assert.Single(trainer.ReferenceCalls)); // only uncached prompts are reference-scored
    }

    [Fact]
    public async Task PointMseTrainsOnUnitScoresWhateverTheRatingScale()
    {
        // Ratings 5..15 (10·oracle + 5). point_mse = Σ_i (s_i − p_i)² over a prompt's 3 candidates with p_i ∈ [0, 1]:
        // at most 3 when s ∈ [0, 1], at least (5 − 1)² = 16 for one raw rating. So every step's loss tells which it
        // got.
        string directory = TestConfigs.TempDirectory();
        string raw = FileDataTests.WriteDataset(directory, 60);
        string path = Path.Combine(directory, "scaled.jsonl");
        File.WriteAllLines(
            path,
            File.ReadAllLines(raw)
                .Select(line =>
                {
                    var record = System.Text.Json.Nodes.JsonNode.Parse(line)!;
                    foreach (var c in record["completions"]!.AsArray())
                        c!["score"] = 10 * c["score"]!.GetValue<double>() + 5;
                    return record.ToJsonString();
                })
        );
        var config = TestConfigs.Tiny("point-mse", loss: "point_mse", rounds: 1) with
        {
            Data = new DataConfig
            {
                Source = "file",
                Path = path,
                EvalPrompts = 10,
            },
        };
        await using var cluster = await Client.Cluster.EmbeddedCluster.StartAsync(Path.Combine(directory, "state"));
        var status = await ClusterHarness.RunToEndAsync(cluster, config);
        var steps = Assert.Single(status.History).Steps;
        Assert.NotEmpty(steps);
        Assert.All(steps, s => Assert.InRange(s.Loss, 0, 3));
        var shard = await cluster.Client.GetGrain<IPromptShardGrain>("point-mse/shard-0").GetTrainingItemsAsync(1);
        Assert.All(shard.SelectMany(g => g.Candidates), c => Assert.InRange(c.Rating, 5, 15)); // stored raw
    }

    [Fact]
    public void PointLossesGetRatingsMinMaxScaledPerPromptAndOtherLossesTheRawOnes()
    {
        Assert.Equal([1, 0, 0.5], UnitScores.Rescale([3, 1, 2]));
        Assert.Equal([1, 0.5, 0], UnitScores.Rescale([-1, -2, -3])); // Nectar ranks 1..3 as −rank
        Assert.Equal([0.5, 0.5], UnitScores.Rescale([7, 7])); // no preference either way
        var groups = new[] { new PromptGroup("p", [1], [C(8), C(2), C(5)], 0) };
        var scaled = UnitScores.ForLoss(Alignment.Losses.LossRegistry.Get("point_mse"), groups);
        Assert.Equal([1, 0, 0.5], scaled[0].Candidates.Select(c => c.Rating));
        Assert.Equal([8.0, 2, 5], groups[0].Candidates.Select(c => c.Rating)); // the shards' ratings stay raw
        Assert.Equal(
            [1, 0, 0.5],
            UnitScores
                .ForLoss(Alignment.Losses.LossRegistry.Get("POINT_CE"), groups)[0]
                .Candidates.Select(c => c.Rating)
        );
        Assert.Same(groups, UnitScores.ForLoss(Alignment.Losses.LossRegistry.Get("exo_rw"), groups)); // scale matters to exo_rw: untouched
    }
}
