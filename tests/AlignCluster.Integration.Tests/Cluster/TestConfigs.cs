using AlignCluster.Contracts;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>Run configs small enough for tests (seconds on two cores), same code paths as the demo.</summary>
internal static class TestConfigs
{
    public static RunConfig Tiny(
        string runId,
        string loss = "dpo",
        string strategy = "mc",
        ulong seed = 7,
        int rounds = 3
    ) =>
        new()
        {
            RunId = runId,
            Seed = seed,
            Shards = 2,
            Data = new DataConfig { TrainPrompts = 96, EvalPrompts = 32 },
            Sft = new SftConfig { Epochs = 2 },
            Loss = new LossConfig
            {
                Name = loss,
                Parameters = new() { ["beta"] = 0.1 },
            },
            Selection = new SelectionConfig { Strategy = strategy, Per = "step" },
            Training = new TrainingConfig { Rounds = rounds, BatchSize = 16 },
            Eval = new EvalConfig { SamplesPerPrompt = 1 },
        };

    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "aligncluster-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
