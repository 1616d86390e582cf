using System.Diagnostics;
using AlignCluster.Contracts;
using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Policy;
using AlignCluster.Grains.Telemetry;

namespace AlignCluster.Grains.Coordinator;

/// <summary>
/// A run's rounds, top to bottom (docs/cluster.md, "How a run flows through the grains"), over grain interfaces so it
/// runs the same in the embedded cluster, a multi-silo one, or a unit test with plain objects. It orchestrates and
/// never computes: sampling, rating, scoring and training happen on the trainer, which reads and writes the shards
/// itself; only shard keys, prompt references, specs, seeds, counts and metrics pass through here. Each phase is a
/// span; progress is persisted (through <paramref name="persist"/>) once a round is complete, and a resume restarts
/// from the last checkpointed round, which reproduces an uninterrupted run exactly (every random draw derives from
/// seed and round).
/// </summary>
public sealed class CoordinatorService(
    string runId,
    CoordinatorState state,
    Func<int, IPromptShardGrain> shard,
    ITrainerGrain trainer,
    Func<Task> persist,
    PreparationCache? preparations = null
)
{
    private RunConfig Config =>
        state.Config ?? throw new InvalidOperationException($"run '{runId}' has no config: call StartAsync first");
    private ulong Seed => Config.Seed;

    /// <summary>How long the first restart after a failed round waits (doubling for each further failure in a row):
    /// time for the cluster to declare a crashed silo dead so its grains are placed elsewhere.</summary>
    public static TimeSpan RestartDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Prepares the run if needed, then runs rounds while <paramref name="keepGoing"/> says so. A round that fails once
    /// the run is prepared (a trainer's or shard's silo died, a collective broke) is retried from the last checkpoint,
    /// up to checkpoint.restarts times in a row; then the run is Failed with the last error.
    /// </summary>
    /// <param name="startedBy">The span of the call that started the run, if any: the run span is its child.</param>
    public async Task DriveAsync(
        Func<bool> keepGoing,
        CancellationToken ct = default,
        ActivityContext startedBy = default
    )
    {
        using var run = ClusterTelemetry.StartPhase("run", runId, parent: startedBy);
        run?.SetTag("loss", Config.Loss.Name);
        run?.SetTag("selection", Config.Selection.Strategy);
        int failedRound = -1,
            failuresInARow = 0;
        int CountFailure() // of the round that just failed: consecutive failures of the same round
        {
            int round = state.Round + 1;
            failuresInARow = round == failedRound ? failuresInARow + 1 : 1;
            failedRound = round;
            return failuresInARow;
        }
        while (true)
        {
            try
            {
                await DriveOnceAsync(keepGoing, ct);
                return;
            }
            catch (Exception e)
                when (e is not OperationCanceledException
                    && state.Prepared
                    && keepGoing()
                    && CountFailure() <= Config.Checkpoint.Restarts
                )
            {
                state.Restarts++;
                ClusterTelemetry.RecordRestart(runId);
                // One line: Orleans' messaging errors carry their inner exception's stack trace in the message.
                string error = e.Message.Split('\n', 2)[0].TrimEnd();
                state.Phase =
                    $"round {failedRound}: restart {failuresInARow}/{Config.Checkpoint.Restarts} from the checkpoint "
                    + $"of round {state.LastCheckpointRound} after: {error}";
                run?.AddEvent(
                    new ActivityEvent(
                        "restart",
                        tags: new ActivityTagsCollection
                        {
                            ["round"] = failedRound,
                            ["restart"] = failuresInARow,
                            ["error"] = e.Message,
                        }
                    )
                );
                await persist();
                await Task.Delay(RestartDelay * (1 << (failuresInARow - 1)), ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                run?.SetStatus(ActivityStatusCode.Error, e.Message);
                state.State = RunState.Failed;
                state.Error = $"{e.GetType().Name}: {e.Message}";
                await persist();
                // Free the trainers' devices as a completed run does (a resume restores from the checkpoint anyway); a
                // replica that cannot be reached or was never placed holds none, so its error is not the run's.
                try
                {
                    await trainer.ReleaseAsync();
                }
                catch (Exception) { }
                throw;
            }
        }
    }

    private async Task DriveOnceAsync(Func<bool> keepGoing, CancellationToken ct)
    {
        if (!state.Prepared)
            await PrepareAsync(ct);
        else
            await RollBackToCheckpointAsync();
        while (state.Round < Config.Training.Rounds && keepGoing())
            await RunRoundAsync(state.Round + 1, ct);
        if (state.Round >= Config.Training.Rounds)
        {
            state.State = RunState.Completed;
            state.Phase = "done";
            await persist();
            // Frees the device for the next run. The run is complete and recorded: a trainer that cannot be reached
            // now (its silo died after the last checkpoint) holds no device any more, and must not fail the run.
            try
            {
                await trainer.ReleaseAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException) { }
        }
    }

    /// <summary>
    /// Runs a call that places the run's trainers, retrying while no device is free, for up to training.device_wait
    /// seconds (phase "waiting for a free device"): runs queue for devices rather than fail while another run ends.
    /// </summary>
    private async Task<T> WhenDevicesFreeAsync<T>(Func<Task<T>> place, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(250);
        string phase = state.Phase;
        while (true)
        {
            try
            {
                var result = await place();
                state.Phase = phase;
                return result;
            }
            catch (Exception e) when (IsNoFreeDevice(e) && waited.Elapsed.TotalSeconds < Config.Training.DeviceWait)
            {
                state.Phase =
                    $"{phase}: waiting for a free device ({waited.Elapsed.TotalSeconds:0} s of "
                    + $"{Config.Training.DeviceWait:0} s): {e.Message}";
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private static bool IsNoFreeDevice(Exception? e) =>
        e is not null
        && (e is AlignCluster.Hosting.Placement.NoFreeDeviceException || IsNoFreeDevice(e.InnerException));

    /// <summary>A resumed run continues from its last checkpoint: trainer weights restored, later reports
    /// dropped.</summary>
    private async Task RollBackToCheckpointAsync()
    {
        if (!await WhenDevicesFreeAsync(() => trainer.RestoreAsync(runId, state.LastCheckpointRound), default))
            throw new InvalidOperationException(
                $"run '{runId}': the checkpoint of round {state.LastCheckpointRound} is missing or incomplete"
            );
        state.Round = state.LastCheckpointRound;
        state.History.RemoveAll(r => r.Round > state.Round);
    }

    /// <summary>Round 0: policy (+ SFT), candidate sets ranked by the reward function, shards loaded, reference scored,
    /// baseline.</summary>
    public async Task PrepareAsync(CancellationToken ct = default)
    {
        using var span = ClusterTelemetry.StartPhase("prepare", runId, 0);
        state.Phase = "prepare";
        var config = Config;
        string? key = preparations is not null && config.ReusePreparation ? PreparationCache.Key(config) : null;
        if (
            key is not null
            && await preparations!.ReadAsync(key, ct) is { } prepared
            && await WhenDevicesFreeAsync(() => trainer.RestoreAsync(prepared.CheckpointId, 0), ct)
        )
        {
            span?.SetTag("preparation.reused", key);
            (state.EvalPrompts, state.Sft, state.Baseline, state.PromptsSkipped) = (
                prepared.EvalPrompts,
                prepared.Sft,
                prepared.Baseline,
                prepared.PromptsSkipped
            );
            await LoadShardsAsync(prepared.Groups);
            await FinishPreparationAsync();
            return;
        }
        // Only when nothing is reused: restoring a prepared run builds the trainer's models itself (an hf model is
        // loaded once).
        await WhenDevicesFreeAsync(
            async () =>
            {
                await trainer.InitializeAsync(PolicySpecOf(config));
                return true;
            },
            ct
        );
        // Prompts: the synthetic task (candidates sampled below) or a preference file (candidates given).
        TaskData data;
        List<PromptGroup>? fromFile = null;
        int skippedByReader = 0;
        if (config.Data.Source == "file")
        {
            var file = FileData.Load(config);
            (data, fromFile, skippedByReader) = (file.Data, [.. file.Train], file.Report.SkippedTooFewCandidates);
            state.EvalGroups = file.Held;
        }
        else
            data = TaskData.Create(config.Data, Seed);
        state.EvalPrompts = data.EvalPrompts;
        if (config.Sft.Enabled)
        {
            state.Phase = "sft";
            using var sft = ClusterTelemetry.StartPhase("train", runId, 0);
            sft?.SetTag("train.kind", "sft");
            state.Sft = await trainer.SupervisedFineTuneAsync(
                new SftRequest(
                    data.Demonstrations,
                    config.Sft.Epochs,
                    config.Sft.BatchSize,
                    config.Sft.LearningRate,
                    SeededRandom.Derive(Seed, "sft")
                )
            );
        }

        state.Phase = "candidates";
        CandidateReport candidates;
        using (var generate = ClusterTelemetry.StartPhase("generate", runId, 0))
        {
            // The trainer samples (or takes the file's groups), rates, adds the noise copies and loads the shards.
            candidates = await trainer.PrepareCandidatesAsync(
                new CandidateRequest(
                    runId,
                    ShardKeys.All(runId, config.Shards),
                    data.TrainPrompts,
                    fromFile?.ToArray(),
                    config.Candidates.Temperatures,
                    config.Candidates.PerTemperature,
                    config.Policy.MaxResponseLength,
                    [.. config.Candidates.Temperatures.Select(t => SeededRandom.Derive(Seed, "candidates", t))],
                    config.Candidates.InjectNoise ? Seed : null,
                    config.Reward
                )
            );
            state.PromptsSkipped =
                candidates.Untrainable + skippedByReader + data.TrainPrompts.Length - candidates.Built;
            generate?.SetTag("candidates", candidates.Candidates);
            generate?.SetTag("prompts.skipped", state.PromptsSkipped);
        }
        if (candidates.Groups == 0)
            throw new InvalidOperationException(
                $"run '{runId}': no prompt has a candidate rated below its best one; nothing to train on"
            );

        await ScoreReferenceAsync(0);
        if (state.EvalGroups.Length > 0) // the reference is frozen from here on: score the held-out candidates once
            state.EvalGroups = CacheReference(
                state.EvalGroups,
                await trainer.ScoreAsync(state.EvalGroups, reference: true)
            );

        state.Baseline = await EvaluateAsync(0);
        if (key is not null)
        {
            // The prepared policy goes to its own checkpoint: the run's round-0 checkpoint is pruned as rounds pass.
            var checkpointId = PreparationCache.CheckpointId(key);
            // Runs with the same inputs preparing side by side (the demo's methods of one seed, or two `train`s) write
            // the same shared checkpoint: each file is replaced atomically with identical content, so either writer's
            // COMPLETE blesses a whole set.
            await trainer.CheckpointAsync(checkpointId, 0);
            var scored = (await Task.WhenAll(Shards().Select(s => s.GetTrainingItemsAsync(0))))
                .SelectMany(g => g)
                .ToArray();
            await preparations!.WriteAsync(
                key,
                new PreparedRun(
                    checkpointId,
                    scored,
                    state.EvalPrompts,
                    state.Sft,
                    state.Baseline,
                    state.PromptsSkipped
                ),
                ct
            );
        }
        await FinishPreparationAsync();
    }

    private Task LoadShardsAsync(IReadOnlyCollection<PromptGroup> groups) =>
        Task.WhenAll(
            Enumerable
                .Range(0, Config.Shards)
                .Select(i =>
                    shard(i)
                        .LoadSliceAsync(new ShardSlice(runId, groups.Where(g => ShardIndex(g.PromptId) == i).ToArray()))
                )
        );

    private async Task FinishPreparationAsync()
    {
        await CheckpointAsync(0);
        state.Prepared = true;
        state.Round = 0;
        state.Phase = "prepared";
        await persist();
    }

    /// <summary>One round: [generate] → select/score → train → [evaluate] → [checkpoint] → persist progress.</summary>
    public async Task RunRoundAsync(int round, CancellationToken ct = default)
    {
        var started = Stopwatch.StartNew();
        using var span = ClusterTelemetry.StartPhase("round", runId, round);
        var config = Config;
        var selection = SelectionSpecOf(config);

        int added = 0;
        if (config.Online.Every > 0 && round > 1 && (round - 1) % config.Online.Every == 0)
            added = await GenerateOnlineCandidatesAsync(round);

        // The trainer reads the round's groups from the shards, selects negatives (per round or per step) and trains;
        // only shard keys, the loss's name and the selection ids pass through here.
        state.Phase = $"round {round}: train";
        TrainReport report;
        var trainTime = Stopwatch.StartNew();
        using (var train = ClusterTelemetry.StartPhase("train", runId, round))
        {
            train?.SetTag("loss", config.Loss.Name);
            report = await trainer.TrainAsync(
                new TrainRequest(
                    runId,
                    round,
                    ShardKeys.All(runId, config.Shards),
                    LossSpecOf(config),
                    selection,
                    config.Training.BatchSize,
                    config.Training.LearningRate,
                    SeededRandom.Derive(Seed, "train", round),
                    SeededRandom.Derive(Seed, "select")
                )
            );
            train?.SetTag("steps", report.Steps.Length);
        }
        ClusterTelemetry.RecordSteps(runId, report.Steps);
        double trainSeconds = trainTime.Elapsed.TotalSeconds;
        if (report.Selections.Length > 0)
            using (ClusterTelemetry.StartPhase("select", runId, round))
                await Task.WhenAll(
                    Enumerable
                        .Range(0, config.Shards)
                        .Select(i =>
                            shard(i)
                                .RecordSelectionsAsync(
                                    round,
                                    report.Selections.Where(s => ShardIndex(s.PromptId) == i).ToArray()
                                )
                        )
                );
        var shardReports = await Task.WhenAll(Shards().Select(s => s.ReportAsync()));
        double changeRate =
            shardReports.Sum(r => r.SelectionChangeRate * r.Prompts) / Math.Max(1, shardReports.Sum(r => r.Prompts));
        double kernelEntropy =
            shardReports.Sum(r => r.KernelEntropy * r.Selected) / Math.Max(1, shardReports.Sum(r => r.Selected));
        ClusterTelemetry.RecordChangeRate(runId, changeRate);
        ClusterTelemetry.RecordThroughput(
            runId,
            PairsOf(report, shardReports),
            shardReports.Sum(r => r.Tokens),
            trainSeconds
        );

        EvalResult? eval = null;
        bool last = round == config.Training.Rounds;
        if (last || (config.Eval.Every > 0 && round % config.Eval.Every == 0))
            eval = await EvaluateAsync(round);
        string? checkpointKey = null;
        if (last || round % config.Checkpoint.Every == 0)
            checkpointKey = await CheckpointAsync(round);

        state.History.Add(
            new RoundReport(
                round,
                Mean(report.Steps),
                report.Steps,
                changeRate,
                added,
                eval,
                checkpointKey,
                started.Elapsed.TotalSeconds,
                kernelEntropy,
                report.StepSeconds
            )
        );
        state.Round = round;
        await persist();
        ClusterTelemetry.RecordRoundDone(runId);
    }

    /// <summary>(chosen, rejected) pairs a round trained: the negatives the trainer picked (per round or per step), or,
    /// for a whole-group loss (nothing picked), every non-chosen candidate of every prompt.</summary>
    private static long PairsOf(TrainReport report, ShardReport[] shards) =>
        report.Selections.Length > 0
            ? report.Selections.Sum(s => (long)s.NegativeIds.Length)
            : shards.Sum(r => (long)r.Candidates - r.Prompts);

    /// <summary>Online: new candidates from the current policy, sampled, rated and merged into the shards (under the
    /// cap) by the trainer, then reference-scored.</summary>
    private async Task<int> GenerateOnlineCandidatesAsync(int round)
    {
        state.Phase = $"round {round}: generate";
        using var span = ClusterTelemetry.StartPhase("generate", runId, round);
        var config = Config;
        var merged = await trainer.GenerateCandidatesAsync(
            new OnlineRequest(
                round,
                ShardKeys.All(runId, config.Shards),
                config.Online.Generations,
                config.Online.Temperature,
                config.Policy.MaxResponseLength,
                SeededRandom.Derive(Seed, "online", round),
                config.Online.Cap,
                config.Reward
            )
        );
        int added = merged.Added - merged.DroppedByCap;
        span?.SetTag("candidates.added", added);
        await ScoreReferenceAsync(round);
        return added;
    }

    /// <summary>Reference log-probs for every candidate that has none yet: computed once, cached in the
    /// shards.</summary>
    private async Task ScoreReferenceAsync(int round)
    {
        using var span = ClusterTelemetry.StartPhase("score", runId, round);
        span?.SetTag("score.kind", "reference");
        int scored = await trainer.CacheReferenceAsync(ShardKeys.All(runId, Config.Shards));
        span?.SetTag("candidates", scored);
    }

    /// <summary>Held-out evaluation of the current policy against the reference.</summary>
    private async Task<EvalResult> EvaluateAsync(int round)
    {
        state.Phase = $"round {round}: evaluate";
        using var span = ClusterTelemetry.StartPhase("evaluate", runId, round);
        var result = await PolicyEvaluation.EvaluateAsync(trainer, state.EvalPrompts, Config, state.EvalGroups);
        span?.SetTag("oracle_reward", result.OracleReward);
        ClusterTelemetry.RecordEval(runId, result);
        return result;
    }

    private async Task<string> CheckpointAsync(int round)
    {
        using var span = ClusterTelemetry.StartPhase("checkpoint", runId, round);
        var info = await trainer.CheckpointAsync(runId, round);
        span?.SetTag("checkpoint.key", info.Key);
        span?.SetTag("checkpoint.bytes", info.Bytes);
        state.LastCheckpointRound = round;
        return info.Key;
    }

    private static PromptGroup[] CacheReference(PromptGroup[] groups, GroupScores[] scores) =>
        groups
            .Zip(scores, (g, s) =>
                g with
                {
                    Candidates = g.Candidates.Select((c, i) => c with { ReferenceLogProb = s.LogProbs[i] }).ToArray(),
                }
            )
            .ToArray();

    private IEnumerable<IPromptShardGrain> Shards() => Enumerable.Range(0, Config.Shards).Select(shard);

    /// <summary>Prompt → shard (<see cref="ShardKeys.IndexOf"/>).</summary>
    public int ShardIndex(string promptId) => ShardKeys.IndexOf(promptId, Config.Shards);

    public static PolicySpec PolicySpecOf(RunConfig c) =>
        new(
            c.Policy.Kind,
            c.Policy.Path,
            c.Data.MaxLength,
            c.Policy.MaxResponseLength,
            SeededRandom.Derive(c.Seed, "init"),
            c.Policy.WeightDecay,
            c.Policy.GradClip
        );

    public static LossSpec LossSpecOf(RunConfig c) => new(c.Loss.Name, c.Loss.Parameters);

    public static SelectionSpec SelectionSpecOf(RunConfig c) =>
        new(
            c.Selection.Strategy,
            c.Selection.Negatives,
            c.Selection.IncludeChosen,
            c.Selection.Per == "step",
            c.Loss.Parameters.GetValueOrDefault("beta", 0.1)
        );

    private static StepMetrics Mean(StepMetrics[] s) =>
        s.Length == 0
            ? new StepMetrics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            : new StepMetrics(
                s.Length,
                s.Average(x => x.Loss),
                s.Average(x => x.RewardsChosen),
                s.Average(x => x.RewardsRejected),
                s.Average(x => x.RewardsMargins),
                s.Average(x => x.RewardsAccuracies),
                s.Average(x => x.LogpsChosen),
                s.Average(x => x.LogpsRejected),
                s.Average(x => x.RhoChosen),
                s.Average(x => x.RhoRejected),
                s.Average(x => x.KernelEntropy),
                s.Average(x => x.GradNorm),
                s.Sum(x => x.Pairs),
                s.Sum(x => x.Tokens)
            );
}
