using AlignCluster.Contracts;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Training;
using AlignCluster.Hosting.Placement;

namespace AlignCluster.Grains.Trainer;

/// <summary>What a trainer records: the run, how its policy is built, the newest checkpoint it wrote or
/// restored.</summary>
[GenerateSerializer, Alias("AlignCluster.TrainerGrainState")]
public sealed class TrainerGrainState
{
    [Id(0)]
    public string RunId { get; set; } = "";

    [Id(1)]
    public PolicySpec? Spec { get; set; }

    /// <summary>Round of the newest checkpoint this trainer wrote or restored (-1 = none).</summary>
    [Id(2)]
    public int CheckpointRound { get; set; } = -1;
}

/// <summary>
/// Holds a policy and its frozen reference. Device-pinned ([DevicePlacement]: placed on a silo with a free device,
/// which
/// it leases while active): one activation per GPU, or per CPU
/// "device" on machines without one. Turn-based: one scoring / training / sampling request at a time on the device.
/// Weights live in memory; checkpoints go to the checkpoint store. A re-activated trainer (its silo died, or it was
/// idle-collected) holds no weights and refuses work until it is restored: it never serves weights older than the
/// coordinator believes them to be (a silent restore from the last checkpoint mid-round would train, evaluate and
/// checkpoint stale weights). The coordinator restarts the round from the last checkpoint, restoring it explicitly.
/// </summary>
/// <remarks>
/// Tensor work never runs on the activation's scheduler thread (it would stall every grain of the silo for seconds):
/// each call awaits it on a thread of its own. The grain is not reentrant, so the turn stays held while it runs and
/// one request at a time reaches the device.
/// </remarks>
[DevicePlacement]
public sealed class TrainerGrain(
    [PersistentState("trainer")] IPersistentState<TrainerGrainState> state,
    CheckpointStore checkpoints,
    DeviceLeases leases,
    ILocalSiloDetails silo
) : Grain, ITrainerGrain
{
    private readonly TrainerService _trainer = new();
    private RendezvousStore? _rendezvous; // rank 0, between OpenRendezvousAsync and JoinGroupAsync
    private (RewardConfig Config, Demo.IRewardFunction Function)? _reward; // the run's, built on first use

    /// <summary>The policy's weights go to the device this activation was leased (a GPU, else the CPU).</summary>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _trainer.Device = Policy.PolicyFactory.DeviceOf(leases.Acquire(this.GetGrainId()));
        return Task.CompletedTask;
    }

    public async Task InitializeAsync(PolicySpec policy)
    {
        await OffScheduler(() => _trainer.Initialize(policy));
        state.State = new TrainerGrainState
        {
            RunId = RunIdOfKey(),
            Spec = policy,
            CheckpointRound = -1,
        };
        await state.WriteStateAsync();
    }

    public Task<SftReport> SupervisedFineTuneAsync(SftRequest request) =>
        InGroup(request.Group, () => _trainer.SupervisedFineTune(request));

    public Task<GroupScores[]> ScoreAsync(PromptGroup[] groups, bool reference)
    {
        RequireWeights();
        return OffScheduler(() => _trainer.Score(groups, reference));
    }

    public async Task<int> CacheReferenceAsync(string[] shards)
    {
        RequireWeights();
        int scored = 0;
        foreach (var shard in shards.Select(key => GrainFactory.GetGrain<IPromptShardGrain>(key)))
        {
            var unscored = await shard.GetUnscoredAsync();
            if (unscored.Length == 0)
                continue;
            await shard.CacheReferenceLogProbsAsync(
                await OffScheduler(() => _trainer.Score(unscored, reference: true))
            );
            scored += unscored.Sum(g => g.Candidates.Length);
        }
        return scored;
    }

    /// <summary>Reads the round's groups from the shards (they never pass through the coordinator), then
    /// trains.</summary>
    public async Task<TrainReport> TrainAsync(TrainRequest request)
    {
        RequireWeights();
        var groups = await Task.WhenAll(
            request.Shards.Select(key =>
                GrainFactory.GetGrain<IPromptShardGrain>(key).GetTrainingItemsAsync(request.Round)
            )
        );
        return await InGroup(request.Group, () => _trainer.Train(request, [.. groups.SelectMany(g => g)]));
    }

    /// <summary>Refuses work without weights, saying why (a re-activation) and what brings them back.</summary>
    private void RequireWeights()
    {
        if (_trainer.IsInitialized)
            return;
        throw new InvalidOperationException(
            state.State.Spec is null
                ? $"trainer {this.GetPrimaryKeyString()} was never initialized"
                : $"trainer {this.GetPrimaryKeyString()} was re-activated (its silo died or it was idle-collected) and holds no weights; "
                    + "it serves again once restored from a checkpoint (the coordinator restarts the round from the last one)"
        );
    }

    public Task<Rendezvous> OpenRendezvousAsync(string groupId, int worldSize)
    {
        _rendezvous?.Dispose();
        string host = RendezvousHost();
        _rendezvous = TrainerGroup.ServeRendezvous(host, worldSize);
        return Task.FromResult(new Rendezvous(host, _rendezvous.Port));
    }

    public Task<string?> CurrentGroupAsync() =>
        Task.FromResult(_trainer.IsInitialized && _trainer.Group.WorldSize > 1 ? _trainer.Group.Id : null);

    public async Task JoinGroupAsync(TrainerGroupSpec spec)
    {
        var served =
            spec.Rank == 0
                ? _rendezvous
                    ?? throw new InvalidOperationException(
                        $"trainer {this.GetPrimaryKeyString()}: rank 0 must open the rendezvous of group {spec.GroupId} first"
                    )
                : null;
        _trainer.LeaveGroup();
        try
        {
            _trainer.Group = await OffScheduler(() =>
                TrainerGroup.Join(
                    spec.GroupId,
                    spec.Rank,
                    spec.WorldSize,
                    spec.Point.Host,
                    spec.Point.Port,
                    served,
                    _trainer.Device
                )
            );
        }
        finally
        {
            if (served is not null)
            {
                served.Dispose();
                _rendezvous = null;
            } // the group keeps the store it needs alive
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _trainer.Dispose(); // weights, reference and group: the device is free for the next activation
        _rendezvous?.Dispose();
        leases.Release(this.GetGrainId());
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs work in the group the coordinator named (none: alone). Group work blocks in collectives until every replica
    /// reaches them, so it runs on a thread of its own: replicas in one process must not wait for pool threads.
    /// </summary>
    private Task<T> InGroup<T>(string? groupId, Func<T> work)
    {
        RequireWeights();
        if (groupId is null)
        {
            if (_trainer.Group.WorldSize > 1)
                _trainer.LeaveGroup();
            return OffScheduler(work);
        }
        if (_trainer.Group.Id != groupId)
            throw new InvalidOperationException(
                $"trainer {this.GetPrimaryKeyString()} is not in data-parallel group {groupId} "
                    + $"(it is in {_trainer.Group}); it left it since the group formed — the round restarts from the last checkpoint"
            );
        return OffScheduler(work);
    }

    /// <summary>
    /// Runs tensor work on a thread of its own, off the activation's scheduler: a step takes seconds, and group work
    /// blocks in collectives until every replica reaches them (replicas in one process must not wait for pool threads).
    /// </summary>
    private static Task<T> OffScheduler<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static Task OffScheduler(Action work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>This silo's advertised address, where the collectives listen.</summary>
    private string RendezvousHost() => silo.SiloAddress.Endpoint.Address.ToString();

    public Task<CandidateReport> PrepareCandidatesAsync(CandidateRequest request) =>
        Generation(request.Reward).PrepareAsync(request);

    public Task<MergeReport> GenerateCandidatesAsync(OnlineRequest request) =>
        Generation(request.Reward).GenerateOnlineAsync(request);

    public Task<EvalResult> EvaluateSamplesAsync(SampleEvalRequest request) =>
        Generation(request.Reward).EvaluateSamplesAsync(request);

    /// <summary>
    /// Sampling on this trainer's device, rating with the run's reward function in this silo (a reward model is loaded
    /// once per process, on its CPU: see <see cref="Demo.RewardModelFunction"/>), shards reached directly.
    /// </summary>
    private CandidateGeneration Generation(RewardConfig reward)
    {
        RequireWeights();
        if (_reward?.Config != reward)
            _reward = (reward, Demo.RewardFunctions.Create(reward));
        return new CandidateGeneration(
            request => OffScheduler(() => _trainer.Generate(request)),
            _reward.Value.Function,
            key => GrainFactory.GetGrain<IPromptShardGrain>(key)
        );
    }

    /// <remarks>In a data-parallel group only rank 0 is asked: the replicas' weights are the same.</remarks>
    public async Task<CheckpointInfo> CheckpointAsync(string runId, int round)
    {
        RequireWeights();
        var spec = state.State.Spec
            ?? throw new InvalidOperationException($"trainer {this.GetPrimaryKeyString()} was never initialized");
        // Saving copies the weights out of the device and encoding streams them to the store: off the scheduler too.
        var info = await Task.Run(() =>
            checkpoints.WriteAsync(runId, round, spec, _trainer.Policy.Save(), _trainer.Reference.Save())
        );
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
        // The device is free now, not when the deactivation runs later: the next trainer may be placed on it at once.
        _trainer.Dispose();
        leases.Release(this.GetGrainId());
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public async Task<bool> RestoreAsync(string runId, int round)
    {
        if (await Task.Run(() => checkpoints.ReadAsync(runId, round)) is not { } checkpoint)
            return false;
        await OffScheduler(() => _trainer.Restore(checkpoint.Manifest.Spec, checkpoint.Policy, checkpoint.Reference));
        state.State = new TrainerGrainState
        {
            RunId = runId,
            Spec = checkpoint.Manifest.Spec,
            CheckpointRound = round,
        };
        await state.WriteStateAsync();
        return true;
    }

    private string RunIdOfKey() =>
        this.GetPrimaryKeyString() is var key && key.LastIndexOf('/') is var i and > 0
            ? key[..i]
            : this.GetPrimaryKeyString();
}
