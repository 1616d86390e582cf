using AlignCluster.Interfaces;
using AlignCluster.Runtime;

namespace AlignCluster.Grains.Services;

/// <summary>A run's durable progress, persisted by the coordinator after preparation and after every round.</summary>
[GenerateSerializer]
public sealed class CoordinatorState
{
    public RunConfig? Config { get; set; }
    public RunState State { get; set; } = RunState.Created;
    public string Phase { get; set; } = "created";
    /// <summary>Rounds completed (0 = prepared: SFT done, candidates in the shards, reference scored).</summary>
    public int Round { get; set; }
    /// <summary>The newest round with a complete trainer checkpoint; a resume restarts from it (-1 = none).</summary>
    public int LastCheckpointRound { get; set; } = -1;
    public bool Prepared { get; set; }
    public List<RoundReport> History { get; set; } = [];
    public EvalResult? Baseline { get; set; }
    public SftReport? Sft { get; set; }
    public int PromptsSkipped { get; set; }
    public PromptRef[] EvalPrompts { get; set; } = [];
    /// <summary>Preference files: the held-out prompts with their candidates (reference log-probs cached), for preference accuracy.</summary>
    public PromptGroup[] EvalGroups { get; set; } = [];
    public string? Error { get; set; }
    /// <summary>Rounds retried from the last checkpoint after a failure (checkpoint.restarts).</summary>
    public int Restarts { get; set; }

    public RunStatus ToStatus(string runId) => new(runId, State, Round, Config?.Training.Rounds ?? 0, Phase,
        [.. History], Baseline, Sft, PromptsSkipped, Error, Restarts);
}
