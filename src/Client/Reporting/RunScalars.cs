using AlignCluster.Contracts;

namespace AlignCluster.Client.Reporting;

/// <summary>One TensorBoard event: the scalars of a global step.</summary>
public sealed record ScalarEvent(long Step, IReadOnlyList<(string Tag, double Value)> Scalars);

/// <summary>
/// A run's status as TensorBoard scalars (the tag table is in docs/operations.md, "Watching a run in TensorBoard").
/// The x axis is the global optimizer step: the steps of round r follow those of the rounds before it, so per-step
/// curves (TRL's names) run on across rounds, and a round's own scalars (selection, evaluation, restarts) sit at its
/// last step. The SFT baseline's evaluation is step 0.
/// </summary>
public static class RunScalars
{
    public const string PairsPerSecond = "throughput/pairs_per_second";
    public const string TokensPerSecond = "throughput/tokens_per_second";
    public const string Round = "round";
    public const string RoundSeconds = "round/seconds";
    public const string ChangeRate = "selection/change_rate";
    public const string KernelEntropy = "selection/kernel_entropy";
    public const string OracleReward = "eval/oracle_reward";
    public const string ReferenceOracleReward = "eval/reference_oracle_reward";
    public const string WinRate = "eval/win_rate";
    public const string KlToReference = "eval/kl_to_reference";
    public const string PreferenceAccuracy = "eval/preference_accuracy";
    public const string PreferenceMargin = "eval/preference_margin";
    public const string Restarts = "run/restarts";

    /// <summary>The baseline's evaluation (step 0), when the run has one.</summary>
    public static ScalarEvent? Baseline(RunStatus status) =>
        status.Baseline is { } b && Eval(b).ToList() is { Count: > 0 } scalars ? new ScalarEvent(0, scalars) : null;

    /// <summary>Events of the rounds in <paramref name="status"/>'s history after <paramref
    /// name="afterRound"/>.</summary>
    public static IEnumerable<ScalarEvent> Rounds(RunStatus status, int afterRound)
    {
        long offset = 0;
        foreach (var r in status.History)
        {
            if (r.Round > afterRound)
                foreach (var e in OfRound(r, offset, status.Restarts))
                    yield return e;
            offset += r.Steps.Length;
        }
    }

    /// <summary>A round's step events (global steps offset+1 …) and its own scalars at its last step.</summary>
    public static IEnumerable<ScalarEvent> OfRound(RoundReport r, long offset, int restarts)
    {
        // kernel/entropy per step reads 0 throughout for whole-group losses and deterministic strategies: left out
        // then.
        bool perStepKernel = r.Steps.Any(s => s.KernelEntropy != 0);
        for (int i = 0; i < r.Steps.Length; i++)
        {
            var s = r.Steps[i];
            var scalars = s.Named().Where(m => perStepKernel || m.Name != "kernel/entropy").ToList();
            if (r.StepSeconds is { } times && i < times.Length && times[i] > 0)
            {
                scalars.Add((PairsPerSecond, s.Pairs / times[i]));
                scalars.Add((TokensPerSecond, s.Tokens / times[i]));
            }
            yield return new ScalarEvent(offset + i + 1, scalars);
        }
        var own = new List<(string, double)>
        {
            (Round, r.Round),
            (RoundSeconds, r.Seconds),
            (ChangeRate, r.SelectionChangeRate),
            (KernelEntropy, r.KernelEntropy),
            (Restarts, restarts),
        };
        if (r.Eval is { } e)
            own.AddRange(Eval(e));
        yield return new ScalarEvent(offset + r.Steps.Length, own);
    }

    /// <summary>Sampled evaluation when the reward function rated samples; preference accuracy for preference
    /// files.</summary>
    private static IEnumerable<(string, double)> Eval(EvalResult e)
    {
        if (e.Samples > 0)
        {
            yield return (OracleReward, e.OracleReward);
            yield return (ReferenceOracleReward, e.ReferenceOracleReward);
            yield return (WinRate, e.WinRate);
            yield return (KlToReference, e.KlToReference);
        }
        if (e.Preference is { } p)
        {
            yield return (PreferenceAccuracy, p.Accuracy);
            yield return (PreferenceMargin, p.MeanMargin);
        }
    }
}

/// <summary>
/// Follows a run's statuses into its TensorBoard directory: each round once, as its report arrives. A later process
/// (train --resume) starts a new event file and appends only rounds the directory has not seen: when the directory
/// already holds event files, the rounds already in the first status are taken as written (a resumed run repeats the
/// rounds after its checkpoint exactly, so any it re-runs reproduce the values written before).
/// </summary>
public sealed class TensorBoardRun(string directory) : IDisposable
{
    private TensorBoardWriter? _writer;
    private int _written; // last round written (rounds count from 1)
    private bool _baselineWritten;

    public string Directory => directory;

    public void Update(RunStatus status)
    {
        if (_writer is null)
        {
            bool continuing =
                System.IO.Directory.Exists(directory)
                && System.IO.Directory.EnumerateFiles(directory, "events.out.tfevents.*").Any();
            if (continuing)
                (_baselineWritten, _written) = (
                    status.Baseline is not null,
                    status.History.Select(r => r.Round).DefaultIfEmpty(0).Max()
                );
            _writer = new TensorBoardWriter(directory);
        }
        if (!_baselineWritten && RunScalars.Baseline(status) is { } baseline)
        {
            _writer.Write(baseline.Step, baseline.Scalars);
            _baselineWritten = true;
        }
        foreach (var e in RunScalars.Rounds(status, _written))
            _writer.Write(e.Step, e.Scalars);
        if (status.History.Length > 0)
            _written = Math.Max(_written, status.History[^1].Round);
        _writer.Flush();
    }

    public void Dispose() => _writer?.Dispose();
}
