using System.Diagnostics;
using AlignCluster.Contracts;
using AlignCluster.Grains.Checkpoints;
using AlignCluster.Grains.Configuration;
using AlignCluster.Grains.Hosting;

namespace AlignCluster.Grains.Coordinator;

/// <summary>
/// One per run (key = run id). Reentrant so that status, pause and cancel are answered while rounds run: the rounds are
/// driven by a grain timer tick (interleaving, so grain code still runs one piece at a time). A durable reminder
/// re-activates the coordinator after a crash, and an activation that finds its run Preparing or Running continues it
/// from the last checkpoint.
/// </summary>
[Reentrant]
public sealed class CoordinatorGrain(
    [PersistentState("run")] IPersistentState<CoordinatorState> state,
    CoordinatorOptions options,
    PreparationCache preparations,
    CheckpointStore checkpoints
) : Grain, ICoordinatorGrain, IRemindable
{
    /// <summary>The reminder that brings a crashed run back.</summary>
    public const string KeepAliveReminder = "keep-alive";

    /// <summary>How often the keep-alive reminder fires (a crashed run resumes within about this long).</summary>
    public static TimeSpan KeepAlivePeriod { get; set; } = TimeSpan.FromMinutes(1);

    private IGrainTimer? _driver;
    private bool _driving;

    // The call that (re)started the run (StartAsync, ResumeAsync): the run span continues its trace, so one trace runs
    // from the user's command through every round. A reminder or re-activation starts a trace of its own.
    private ActivityContext _startedBy;

    private string RunId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (options.AutoResume && state.State.State is RunState.Preparing or RunState.Running)
        {
            // Persisted with the run's next progress write.
            state.State.Resumed++;
            StartDriving();
        }
        return Task.CompletedTask;
    }

    public async Task<RunStatus> StartAsync(RunConfig config)
    {
        var errors = RunConfigLoader.Validate(config);
        if (errors.Count > 0)
            throw new ArgumentException($"run '{RunId}': invalid config: {string.Join("; ", errors)}");
        if (config.RunId != RunId)
            throw new ArgumentException($"config.run_id '{config.RunId}' does not match the coordinator key '{RunId}'");
        if (state.State.Config is { } existing)
        {
            if (RunConfigLoader.ToYaml(existing) != RunConfigLoader.ToYaml(config))
                throw new ArgumentException(
                    $"run '{RunId}' already exists with a different config; choose another run_id"
                );
            return await ResumeAsync();
        }
        state.State.Config = config;
        state.State.State = RunState.Preparing;
        state.State.Phase = "starting";
        await state.WriteStateAsync();
        await this.RegisterOrUpdateReminder(KeepAliveReminder, KeepAlivePeriod, KeepAlivePeriod);
        StartDriving(continueCallersTrace: true);
        return state.State.ToStatus(RunId);
    }

    public Task<RunStatus> GetStatusAsync() => Task.FromResult(state.State.ToStatus(RunId));

    public async Task<RunPlacement> GetPlacementAsync()
    {
        // The grain directory answers where a trainer is active without activating it (null: nowhere).
        var management = GrainFactory.GetGrain<IManagementGrain>(0);
        int count = state.State.Config?.Training.Trainers ?? 0;
        var trainers = new string?[count];
        for (int r = 0; r < count; r++)
        {
            var trainer = GrainFactory.GetGrain<ITrainerGrain>(TrainerKey(RunId, r));
            trainers[r] = (await management.GetActivationAddress(trainer))?.ToString();
        }
        return new RunPlacement(GrainContext.Address.SiloAddress!.ToString(), trainers);
    }

    public async Task<RunStatus> PauseAsync()
    {
        if (state.State.State is RunState.Running or RunState.Preparing)
        {
            state.State.State = RunState.Paused;
            await state.WriteStateAsync();
        }
        return state.State.ToStatus(RunId);
    }

    public async Task<RunStatus> ResumeAsync()
    {
        // A run that was never started has nothing to resume: refuse it, write nothing (no record for the name) and let
        // the activation go, so a mistyped name leaves no trace.
        if (state.State.Config is null)
        {
            DeactivateOnIdle();
            throw new ArgumentException(
                $"run '{RunId}' does not exist: there is nothing to resume (start it without --resume)"
            );
        }
        if (state.State.State is RunState.Paused or RunState.Failed)
        {
            state.State.State = state.State.Prepared ? RunState.Running : RunState.Preparing;
            state.State.Error = null;
            await state.WriteStateAsync();
        }
        if (state.State.State is RunState.Running or RunState.Preparing)
            StartDriving(continueCallersTrace: true);
        return state.State.ToStatus(RunId);
    }

    public async Task<RunStatus> CancelAsync()
    {
        if (state.State.State is not (RunState.Completed or RunState.Failed))
        {
            state.State.State = RunState.Cancelled;
            await state.WriteStateAsync();
        }
        await StopReminderAsync();
        return state.State.ToStatus(RunId);
    }

    public async Task<CheckpointEval> EvaluateCheckpointAsync(int? round)
    {
        var run = state.State;
        if (run.Config is not { } config)
            throw new ArgumentException($"run '{RunId}' does not exist");
        int r = round
            ?? (
                run.LastCheckpointRound >= 0
                    ? run.LastCheckpointRound
                    : throw new ArgumentException($"run '{RunId}' has no checkpoint yet")
            );
        var trainer = GrainFactory.GetGrain<ITrainerGrain>($"{RunId}/eval");
        bool activated = false; // once the trainer answered it holds a device, also when it found no checkpoint to restore
        try
        {
            bool restored = await trainer.RestoreAsync(RunId, r);
            activated = true;
            if (!restored)
                throw new ArgumentException(
                    $"run '{RunId}' has no complete checkpoint for round {r} (the newest is {run.LastCheckpointRound}; the two newest are kept)"
                );
            var result = await PolicyEvaluation.EvaluateAsync(trainer, run.EvalPrompts, config, run.EvalGroups);
            return new CheckpointEval(RunId, r, run.EvalPrompts.Length, result);
        }
        finally
        {
            if (activated)
                await trainer.ReleaseAsync();
        } // frees the device the evaluation trainer was pinned to
    }

    public async Task<ExportedPolicy> ExportCheckpointAsync(int? round)
    {
        if (state.State.Config is null)
            throw new ArgumentException($"run '{RunId}' does not exist");
        var rounds = await checkpoints.RoundsAsync(RunId);
        int r = round
            ?? (rounds.Count > 0 ? rounds[^1] : throw new ArgumentException($"run '{RunId}' has no checkpoint yet"));
        try
        {
            return await checkpoints.ReadExportAsync(RunId, r);
        }
        catch (FileNotFoundException e)
        {
            throw new ArgumentException(
                $"{e.Message} (complete checkpoints: {(rounds.Count > 0 ? string.Join(", ", rounds) : "none")})"
            );
        }
    }

    public Task<byte[]> ReadCheckpointChunkAsync(string key, long offset, int count)
    {
        if (
            !key.StartsWith(CheckpointStore.Prefix(RunId, 0)[..^"0000/".Length], StringComparison.Ordinal)
            || key.Contains("..")
        )
            throw new ArgumentException($"'{key}' is not a checkpoint file of run '{RunId}'");
        return checkpoints.ReadChunkAsync(key, offset, count);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (!options.AutoResume)
            return;
        if (state.State.State is RunState.Preparing or RunState.Running)
            StartDriving();
        else if (state.State.State is RunState.Completed or RunState.Cancelled)
            await StopReminderAsync();
    }

    private void StartDriving(bool continueCallersTrace = false)
    {
        if (_driving)
            return;
        _driving = true;
        _startedBy = continueCallersTrace ? Activity.Current?.Context ?? default : default;
        _driver?.Dispose();
        _driver = this.RegisterGrainTimer<object?>(
            async (_, ct) =>
            {
                try
                {
                    await DriveAsync(ct);
                }
                finally
                {
                    _driving = false;
                }
            },
            null,
            new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan)
            {
                Interleave = true,
                KeepAlive = true,
            }
        );
    }

    private async Task DriveAsync(CancellationToken ct)
    {
        var config = state.State.Config!;
        var service = new CoordinatorService(
            RunId,
            state.State,
            i => GrainFactory.GetGrain<IPromptShardGrain>(ShardKeys.Of(RunId, i)),
            Trainers(config.Training.Trainers),
            () =>
            {
                // After a crash of this silo (activation abandoned) nothing more may be persisted: the run's next
                // activation owns the state now.
                ct.ThrowIfCancellationRequested();
                return state.WriteStateAsync();
            },
            preparations
        );
        if (state.State.State == RunState.Preparing && state.State.Prepared)
            state.State.State = RunState.Running;
        try
        {
            await service.DriveAsync(
                () =>
                {
                    if (state.State.State == RunState.Preparing && state.State.Prepared)
                        state.State.State = RunState.Running;
                    return state.State.State == RunState.Running && !ct.IsCancellationRequested;
                },
                ct,
                _startedBy
            );
        }
        catch (Exception) when (state.State.State == RunState.Failed)
        {
            // Recorded in the state (Error) by the service; the client sees it in the status.
        }
        if (state.State.State is RunState.Completed)
            await StopReminderAsync();
    }

    /// <summary>The run's trainer: one grain, or data-parallel replicas "{run}/trainer-0" … "{run}/trainer-{n−1}" seen
    /// as one.</summary>
    private ITrainerGrain Trainers(int count)
    {
        var replicas = Enumerable
            .Range(0, count)
            .Select(r => GrainFactory.GetGrain<ITrainerGrain>(TrainerKey(RunId, r)))
            .ToArray();
        return count == 1 ? replicas[0] : new DataParallelTrainers(replicas);
    }

    /// <summary>The key of replica <paramref name="replica"/> of a run's trainer.</summary>
    public static string TrainerKey(string runId, int replica) => $"{runId}/trainer-{replica}";

    private async Task StopReminderAsync()
    {
        if (await this.GetReminder(KeepAliveReminder) is { } reminder)
            await this.UnregisterReminder(reminder);
    }
}
