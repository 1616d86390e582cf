using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Demo;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>Per-step selection follows the policy; online rounds add rated, reference-scored candidates.</summary>
public class SelectionAndOnlineTests
{
    [Fact]
    public async Task PerStepMaxSelectionChangesNegativesAsThePolicyMovesWhilePolicyBlindSelectionDoesNot()
    {
        // "max" is deterministic given the policy's scores, so a change of the picked negative between rounds comes
        // from the policy having moved. Control: worst_rated, equally deterministic but blind to the policy, trained
        // identically, never changes — so the change rate is not an artefact of how selections are recorded.
        await using var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory());
        var moving = await ClusterHarness.RunToEndAsync(cluster, TestConfigs.Tiny("moving", strategy: "max"));
        var frozen = await ClusterHarness.RunToEndAsync(cluster, TestConfigs.Tiny("blind", strategy: "worst_rated"));

        Assert.All(moving.History.Skip(1), r =>
            Assert.True(r.SelectionChangeRate > 0, $"round {r.Round}: no negative changed although the policy trained")
        );
        Assert.All(frozen.History.Skip(1), r => Assert.Equal(0, r.SelectionChangeRate));
        Assert.Equal(0, moving.History[0].SelectionChangeRate); // nothing to compare with in round 1
    }

    [Fact]
    public async Task OnlineRoundsMergeRatedCandidatesWithCachedReferenceLogProbs()
    {
        await using var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory());
        var config = TestConfigs.Tiny("online") with
        {
            Online = new OnlineConfig
            {
                Every = 1,
                Generations = 2,
                Cap = 8,
            },
        };
        var status = await ClusterHarness.RunToEndAsync(cluster, config);

        Assert.Equal(0, status.History[0].CandidatesAdded); // round 1 trains on the offline candidates
        Assert.All(status.History.Skip(1), r =>
            Assert.True(r.CandidatesAdded > 0, $"round {r.Round} added no candidates")
        );

        var prompts = TaskData
            .Create(config.Data, config.Seed)
            .TrainPrompts.ToDictionary(p => p.PromptId, p => ToyVocabulary.Decode(p.PromptTokenIds));
        int generated = 0;
        for (int i = 0; i < config.Shards; i++)
            foreach (
                var group in await cluster
                    .Client.GetGrain<IPromptShardGrain>($"online/shard-{i}")
                    .GetTrainingItemsAsync(0)
            )
            {
                Assert.True(group.Candidates.Length <= config.Online.Cap);
                Assert.Equal(group.Candidates.Max(c => c.Rating), group.Candidates[group.ChosenIndex].Rating);
                foreach (var c in group.Candidates)
                {
                    Assert.NotNull(c.ReferenceLogProb);
                    // Ratings recomputed independently from the decoded texts.
                    Assert.Equal(
                        ReverseDigitsTask.Reward(prompts[group.PromptId], ToyVocabulary.Decode(c.TokenIds)),
                        c.Rating
                    );
                    if (c.CandidateId.StartsWith('g'))
                        generated++;
                }
            }
        Assert.True(generated > 0, "no generated candidate survived the cap");
    }
}
