using AlignCluster.Contracts;

namespace AlignCluster.Grains.Coordinator;

/// <summary>
/// A run's trainer grains seen as one trainer (training.trainers &gt; 1), so a round reads the same whatever their
/// number. Training and SFT run on every replica at once, each on its share of each batch, with gradients summed
/// through Gloo or NCCL (the group is formed on first use, under a fresh name); scoring is split into contiguous
/// slices, one per replica, run in parallel; rank 0 samples (candidates, online rounds, evaluation) and writes
/// checkpoints.
/// </summary>
/// <remarks>
/// Results equal one trainer's up to floating-point summation order: samples are rank 0's, drawn as one trainer
/// draws them.
/// </remarks>
public sealed class DataParallelTrainers : ITrainerGrain
{
    private readonly ITrainerGrain[] _replicas;
    private string? _groupId;

    public DataParallelTrainers(IReadOnlyList<ITrainerGrain> replicas)
    {
        if (replicas.Count < 2)
            throw new ArgumentException("data-parallel training needs at least two trainers", nameof(replicas));
        _replicas = [.. replicas];
    }

    public int Count => _replicas.Length;

    public Task InitializeAsync(PolicySpec policy) => Activate(t => t.InitializeAsync(policy));

    public async Task<SftReport> SupervisedFineTuneAsync(SftRequest request)
    {
        var group = await FormGroupAsync();
        return (await Task.WhenAll(_replicas.Select(t => t.SupervisedFineTuneAsync(request with { Group = group }))))[
            0
        ];
    }

    public async Task<TrainReport> TrainAsync(TrainRequest request)
    {
        var group = await FormGroupAsync();
        var reports = await Task.WhenAll(_replicas.Select(t => t.TrainAsync(request with { Group = group })));
        // Step metrics are reduced over the group (every replica reports the same); selections are each replica's
        // share;
        // a step lasts as long as its slowest replica.
        double[]? seconds = reports.All(r => r.StepSeconds is not null)
            ? [.. reports[0].StepSeconds!.Select((_, i) => reports.Max(r => r.StepSeconds![i]))]
            : null;
        return new TrainReport(reports[0].Steps, [.. reports.SelectMany(r => r.Selections)], seconds);
    }

    public async Task<GroupScores[]> ScoreAsync(PromptGroup[] groups, bool reference) =>
        [
            .. (
                await Task.WhenAll(Slices(groups).Select((slice, r) => _replicas[r].ScoreAsync(slice, reference)))
            ).SelectMany(s => s),
        ];

    /// <summary>Each replica scores the unscored candidates of its slice of the shards.</summary>
    public async Task<int> CacheReferenceAsync(string[] shards) =>
        (await Task.WhenAll(Slices(shards).Select((slice, r) => _replicas[r].CacheReferenceAsync(slice)))).Sum();

    // Rank 0 samples, rates and merges alone: every replica holds the same weights, each shard is merged into once,
    // and a libtorch policy, which seeds a decoding batch from its first row, samples what one trainer samples.

    public Task<CandidateReport> PrepareCandidatesAsync(CandidateRequest request) =>
        _replicas[0].PrepareCandidatesAsync(request);

    public Task<MergeReport> GenerateCandidatesAsync(OnlineRequest request) =>
        _replicas[0].GenerateCandidatesAsync(request);

    public Task<EvalResult> EvaluateSamplesAsync(SampleEvalRequest request) =>
        _replicas[0].EvaluateSamplesAsync(request);

    /// <summary>Rank 0 writes it: every replica holds the same weights.</summary>
    public Task<CheckpointInfo> CheckpointAsync(string runId, int round) => _replicas[0].CheckpointAsync(runId, round);

    public Task ReleaseAsync()
    {
        _groupId = null;
        return All(t => t.ReleaseAsync());
    }

    /// <summary>
    /// Every replica restores (true) or none has the checkpoint (false); a partial restore is an error. The next group
    /// work forms a new group: a restore follows a restart, after which some replicas may have been re-activated.
    /// </summary>
    public async Task<bool> RestoreAsync(string runId, int round)
    {
        _groupId = null;
        var restored = new bool[Count];
        await Activate(async t => restored[Array.IndexOf(_replicas, t)] = await t.RestoreAsync(runId, round));
        if (restored.All(r => r))
            return true;
        if (restored.Any(r => r))
            throw new InvalidOperationException(
                $"checkpoint {runId} round {round}: only some trainers could restore it"
            );
        return false;
    }

    public Task<Rendezvous> OpenRendezvousAsync(string groupId, int worldSize) =>
        _replicas[0].OpenRendezvousAsync(groupId, worldSize);

    public Task JoinGroupAsync(TrainerGroupSpec spec) =>
        throw new NotSupportedException("the replicas form their group themselves");

    public Task<string?> CurrentGroupAsync() => Task.FromResult(_groupId);

    /// <summary>
    /// The group for the next group work: formed on first use and after each restore. A formed group is checked first —
    /// a replica re-activated since (its silo died, or it was idle-collected) has neither weights nor group, and the
    /// others would wait for it in a collective until the timeout; the round must restart from the checkpoint instead.
    /// </summary>
    private async Task<string> FormGroupAsync()
    {
        if (_groupId is not null)
        {
            var groups = await Task.WhenAll(_replicas.Select(t => t.CurrentGroupAsync()));
            int lost = Array.FindIndex(groups, g => g != _groupId);
            if (lost < 0)
                return _groupId;
            throw new InvalidOperationException(
                $"trainer {lost} of {Count} left data-parallel group {_groupId} (it was re-activated and "
                    + "holds no weights): the round restarts from the last checkpoint"
            );
        }
        var id = Guid.NewGuid().ToString("N")[..12];
        var point = await _replicas[0].OpenRendezvousAsync(id, Count);
        await Task.WhenAll(
            _replicas.Select((t, rank) => t.JoinGroupAsync(new TrainerGroupSpec(id, rank, Count, point)))
        );
        return _groupId = id;
    }

    /// <summary>Contiguous slices, one per replica, sizes differing by at most one (order kept when
    /// concatenated).</summary>
    private T[][] Slices<T>(T[] items) =>
        [
            .. Enumerable
                .Range(0, Count)
                .Select(r => items[(items.Length * r / Count)..(items.Length * (r + 1) / Count)]),
        ];

    private Task All(Func<ITrainerGrain, Task> call) => Task.WhenAll(_replicas.Select(call));

    /// <summary>A first call places the replicas, one per device: a failure says which trainer and what N
    /// needs.</summary>
    private Task Activate(Func<ITrainerGrain, Task> call) =>
        Task.WhenAll(
            _replicas.Select(
                async (t, rank) =>
                {
                    try
                    {
                        await call(t);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        throw new InvalidOperationException(
                            $"training.trainers = {Count}: trainer {rank} could not start: {e.Message} "
                                + "(every trainer needs a device of its own: declare more devices or lower training.trainers)",
                            e
                        );
                    }
                }
            )
        );
}
