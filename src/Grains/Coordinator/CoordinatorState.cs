using AlignCluster.Contracts;

namespace AlignCluster.Grains.Coordinator;

/// <summary>A run's durable progress, persisted by the coordinator after preparation and after every round.</summary>
[GenerateSerializer, Alias("AlignCluster.CoordinatorState")]
public sealed class CoordinatorState
{
    [Id(0)]
    public RunConfig? Config { get; set; }

    [Id(1)]
    public RunState State { get; set; } = RunState.Created;

    [Id(2)]
    public string Phase { get; set; } = "created";

    /// <summary>Rounds completed (0 = prepared: SFT done, candidates in the shards, reference scored).</summary>
    [Id(3)]
    public int Round { get; set; }

    /// <summary>The newest round with a complete trainer checkpoint; a resume restarts from it (-1 = none).</summary>
    [Id(4)]
    public int LastCheckpointRound { get; set; } = -1;

    [Id(5)]
    public bool Prepared { get; set; }

    [Id(6)]
    public List<RoundReport> History { get; set; } = [];

    [Id(7)]
    public EvalResult? Baseline { get; set; }

    [Id(8)]
    public SftReport? Sft { get; set; }

    [Id(9)]
    public int PromptsSkipped { get; set; }

    [Id(10)]
    public PromptRef[] EvalPrompts { get; set; } = [];

    /// <summary>Preference files: the held-out prompts with their candidates (reference log-probs cached), for
    /// preference accuracy.</summary>
    [Id(11)]
    public PromptGroup[] EvalGroups { get; set; } = [];

    [Id(12)]
    public string? Error { get; set; }

    /// <summary>Rounds retried from the last checkpoint after a failure (checkpoint.restarts).</summary>
    [Id(13)]
    public int Restarts { get; set; }

    /// <summary>Activations that found the run Preparing or Running and took it over (its old one was lost).</summary>
    [Id(14)]
    public int Resumed { get; set; }

    public RunStatus ToStatus(string runId) =>
        new(
            runId,
            State,
            Round,
            Config?.Training.Rounds ?? 0,
            Phase,
            [.. History],
            Baseline,
            Sft,
            PromptsSkipped,
            Error,
            Restarts,
            Resumed
        );
}
