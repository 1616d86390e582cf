using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Training;
using AlignCluster.Interfaces;
using AlignCluster.Runtime;

namespace AlignCluster.Grains.Grains;

/// <summary>What a trainer remembers across activations: which checkpoint to come back from.</summary>
[GenerateSerializer]
public sealed class TrainerGrainState
{
    public string RunId { get; set; } = "";
    public PolicySpec? Spec { get; set; }
    /// <summary>Round of the newest checkpoint this trainer wrote or restored (-1 = none).</summary>
    public int CheckpointRound { get; set; } = -1;
}

/// <summary>
/// Holds a policy and its frozen reference (key "{runId}/{device}"). Device-pinned: one activation per GPU, or per CPU
/// "device" on machines without one. Turn-based: one scoring / training / sampling request at a time on the device.
/// Weights live in memory; checkpoints go to the state store, and a re-activated trainer (after a crash or a move)
/// restores the newest one it knows of.
/// </summary>
[GpuPinnedPlacement]
public sealed class TrainerGrain([PersistentState("trainer")] IPersistentState<TrainerGrainState> state, CheckpointStore checkpoints)
    : Grain, ITrainerGrain
{
    private readonly TrainerService _trainer = new();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.CheckpointRound >= 0)
            await RestoreAsync(state.State.RunId, state.State.CheckpointRound);
    }

    public async Task InitializeAsync(PolicySpec policy)
    {
        _trainer.Initialize(policy);
        state.State = new TrainerGrainState { RunId = RunIdOfKey(), Spec = policy, CheckpointRound = -1 };
        await state.WriteStateAsync();
    }

    public Task<SftReport> SupervisedFineTuneAsync(SftRequest request) => Task.FromResult(_trainer.SupervisedFineTune(request));

    public Task<GroupScores[]> ScoreAsync(PromptGroup[] groups, bool reference) => Task.FromResult(_trainer.Score(groups, reference));

    public Task<TrainReport> TrainAsync(TrainRequest request) => Task.FromResult(_trainer.Train(request));

    public Task<GeneratedResponse[]> GenerateAsync(GenerateRequest request) => Task.FromResult(_trainer.Generate(request));

    public async Task<CheckpointInfo> CheckpointAsync(string runId, int round)
    {
        var spec = state.State.Spec ?? throw new InvalidOperationException($"trainer {this.GetPrimaryKeyString()} was never initialized");
        var info = await checkpoints.WriteAsync(runId, round, spec, _trainer.Policy.Save(), _trainer.Reference.Save());
        // Only the trainer's own run's checkpoints are where it comes back from (not a copy for a prepared run).
        if (runId == RunIdOfKey())
        {
            (state.State.RunId, state.State.CheckpointRound) = (runId, round);
            await state.WriteStateAsync();
        }
        return info;
    }

    public Task ReleaseAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public async Task<bool> RestoreAsync(string runId, int round)
    {
        if (await checkpoints.ReadAsync(runId, round) is not { } checkpoint) return false;
        _trainer.Restore(checkpoint.Manifest.Spec, checkpoint.Policy, checkpoint.Reference);
        state.State = new TrainerGrainState { RunId = runId, Spec = checkpoint.Manifest.Spec, CheckpointRound = round };
        await state.WriteStateAsync();
        return true;
    }

    private string RunIdOfKey() => this.GetPrimaryKeyString() is var key && key.LastIndexOf('/') is var i and > 0 ? key[..i] : this.GetPrimaryKeyString();
}
