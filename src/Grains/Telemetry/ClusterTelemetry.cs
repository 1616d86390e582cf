using System.Diagnostics;
using System.Diagnostics.Metrics;
using AlignCluster.Contracts;

namespace AlignCluster.Grains.Telemetry;

/// <summary>
/// The cluster's OpenTelemetry sources. Spans: run → round → select / score / train / generate / evaluate / checkpoint
/// (and prepare before the first round), on ActivitySource "AlignCluster.Cluster"; grain calls made inside a phase
/// carry
/// its context (traceparent) so trainer and shard spans hang under it. Metrics: the run's numbers as instruments on
/// Meter "AlignCluster.Cluster", every one tagged with run.id; <see cref="Instruments"/> lists their names and units
/// (docs/operations.md, "Run metrics", shows the same table).
/// </summary>
/// <remarks>
/// Per-step training metrics are histograms (every optimizer step is one measurement, so sum/count is the mean over
/// steps); per-round values are gauges (the newest value per run); events and amounts are counters, so a backend
/// derives rates (pairs/s, tokens/s) from them over any window as well as reading the per-round gauges.
/// </remarks>
public static class ClusterTelemetry
{
    public const string Name = "AlignCluster.Cluster";
    public static readonly ActivitySource Source = new(Name, "1.0");
    public static readonly Meter Meter = new(Name, "1.0");

    /// <summary>One instrument: its OpenTelemetry name, unit (UCUM; "{…}" is a count of things, "1" a ratio or a
    /// dimensionless number), kind, and what it measures.</summary>
    public sealed record InstrumentInfo(string Name, string Unit, InstrumentKind Kind, string Description);

    public enum InstrumentKind
    {
        Histogram,
        Gauge,
        Counter,
    }

    // Per-step metrics, keyed by their TRL name (StepMetrics.Named()): log-probs and implicit rewards are in nats.
    private static readonly Dictionary<string, InstrumentInfo> StepInfo = new()
    {
        ["loss"] = new("aligncluster.train.loss", "1", InstrumentKind.Histogram, "preference loss of a step"),
        ["rewards/chosen"] = new(
            "aligncluster.train.rewards.chosen",
            "{nat}",
            InstrumentKind.Histogram,
            "mean implicit reward β·(logπθ − logπref) of the chosen responses"
        ),
        ["rewards/rejected"] = new(
            "aligncluster.train.rewards.rejected",
            "{nat}",
            InstrumentKind.Histogram,
            "mean implicit reward of the rejected responses"
        ),
        ["rewards/margins"] = new(
            "aligncluster.train.rewards.margins",
            "{nat}",
            InstrumentKind.Histogram,
            "mean of reward(chosen) − reward(rejected)"
        ),
        ["rewards/accuracies"] = new(
            "aligncluster.train.rewards.accuracies",
            "1",
            InstrumentKind.Histogram,
            "fraction of pairs with reward(chosen) > reward(rejected)"
        ),
        ["logps/chosen"] = new(
            "aligncluster.train.logps.chosen",
            "{nat}",
            InstrumentKind.Histogram,
            "mean sequence log-prob of the chosen responses under the policy"
        ),
        ["logps/rejected"] = new(
            "aligncluster.train.logps.rejected",
            "{nat}",
            InstrumentKind.Histogram,
            "mean sequence log-prob of the rejected responses under the policy"
        ),
        ["rho/chosen"] = new(
            "aligncluster.train.rho.chosen",
            "{nat}",
            InstrumentKind.Histogram,
            "mean log-ratio logπθ − logπref of the chosen responses"
        ),
        ["rho/rejected"] = new(
            "aligncluster.train.rho.rejected",
            "{nat}",
            InstrumentKind.Histogram,
            "mean log-ratio of the rejected responses"
        ),
        ["kernel/entropy"] = new(
            "aligncluster.selection.kernel_entropy",
            "{nat}",
            InstrumentKind.Histogram,
            "entropy of the MC kernel's categorical over a prompt's candidates, mean over the step's prompts"
        ),
        ["grad_norm"] = new(
            "aligncluster.train.grad_norm",
            "1",
            InstrumentKind.Histogram,
            "gradient norm before clipping"
        ),
    };

    public static readonly InstrumentInfo ChangeRateInfo = new(
        "aligncluster.selection.change_rate",
        "1",
        InstrumentKind.Gauge,
        "fraction of prompts whose selected negative changed since the previous round"
    );
    public static readonly InstrumentInfo OracleRewardInfo = new(
        "aligncluster.eval.oracle_reward",
        "1",
        InstrumentKind.Gauge,
        "mean oracle / reward-function rating of held-out policy samples"
    );
    public static readonly InstrumentInfo WinRateInfo = new(
        "aligncluster.eval.win_rate",
        "1",
        InstrumentKind.Gauge,
        "adjusted win-rate of the policy against the SFT reference on held-out prompts"
    );
    public static readonly InstrumentInfo KlInfo = new(
        "aligncluster.eval.kl_to_reference",
        "{nat}",
        InstrumentKind.Gauge,
        "KL(πθ‖πsft) estimated on held-out policy samples"
    );
    public static readonly InstrumentInfo PairsPerSecondInfo = new(
        "aligncluster.train.pairs_per_second",
        "{pair}/s",
        InstrumentKind.Gauge,
        "preference pairs trained per second of the round's train phase"
    );
    public static readonly InstrumentInfo TokensPerSecondInfo = new(
        "aligncluster.train.tokens_per_second",
        "{token}/s",
        InstrumentKind.Gauge,
        "tokens of the training input per second of the round's train phase"
    );
    public static readonly InstrumentInfo PairsInfo = new(
        "aligncluster.train.pairs",
        "{pair}",
        InstrumentKind.Counter,
        "preference pairs trained: (chosen, rejected) pairs of the rounds' training input"
    );
    public static readonly InstrumentInfo TokensInfo = new(
        "aligncluster.train.tokens",
        "{token}",
        InstrumentKind.Counter,
        "tokens of the rounds' training input (prompt + every candidate of each example)"
    );
    public static readonly InstrumentInfo RoundsInfo = new(
        "aligncluster.run.rounds",
        "{round}",
        InstrumentKind.Counter,
        "rounds completed"
    );
    public static readonly InstrumentInfo RestartsInfo = new(
        "aligncluster.run.restarts",
        "{restart}",
        InstrumentKind.Counter,
        "rounds retried from the last checkpoint after a failure"
    );

    /// <summary>Every run metric, in the order of the table in docs/operations.md.</summary>
    public static IReadOnlyList<InstrumentInfo> Instruments { get; } =
    [
        .. StepInfo.Values,
        ChangeRateInfo,
        OracleRewardInfo,
        WinRateInfo,
        KlInfo,
        PairsPerSecondInfo,
        TokensPerSecondInfo,
        PairsInfo,
        TokensInfo,
        RoundsInfo,
        RestartsInfo,
    ];

    private static readonly Dictionary<string, Histogram<double>> StepInstruments = StepInfo.ToDictionary(
        e => e.Key,
        e => Meter.CreateHistogram<double>(e.Value.Name, e.Value.Unit, e.Value.Description)
    );
    private static readonly Gauge<double> ChangeRate = CreateGauge(ChangeRateInfo);
    private static readonly Gauge<double> OracleReward = CreateGauge(OracleRewardInfo);
    private static readonly Gauge<double> WinRate = CreateGauge(WinRateInfo);
    private static readonly Gauge<double> Kl = CreateGauge(KlInfo);
    private static readonly Gauge<double> PairsPerSecond = CreateGauge(PairsPerSecondInfo);
    private static readonly Gauge<double> TokensPerSecond = CreateGauge(TokensPerSecondInfo);
    private static readonly Counter<long> Pairs = CreateCounter(PairsInfo);
    private static readonly Counter<long> Tokens = CreateCounter(TokensInfo);
    private static readonly Counter<long> Rounds = CreateCounter(RoundsInfo);
    private static readonly Counter<long> Restarts = CreateCounter(RestartsInfo);

    private static Gauge<double> CreateGauge(InstrumentInfo i) =>
        Meter.CreateGauge<double>(i.Name, i.Unit, i.Description);

    private static Counter<long> CreateCounter(InstrumentInfo i) =>
        Meter.CreateCounter<long>(i.Name, i.Unit, i.Description);

    private static KeyValuePair<string, object?> Run(string runId) => new("run.id", runId);

    /// <summary>Starts a phase span (null when nobody listens); tags go on as attributes.</summary>
    /// <param name="parent">Default: the current span (<see cref="Activity.Current"/>).</param>
    public static Activity? StartPhase(string phase, string runId, int? round = null, ActivityContext parent = default)
    {
        var activity = Source.StartActivity(phase, ActivityKind.Internal, parent);
        activity?.SetTag("run.id", runId);
        if (round is not null)
            activity?.SetTag("round", round.Value);
        return activity;
    }

    public static void RecordSteps(string runId, IEnumerable<StepMetrics> steps)
    {
        var tag = Run(runId);
        foreach (var step in steps)
        foreach (var (name, value) in step.Named())
            if (StepInstruments.TryGetValue(name, out var instrument))
                instrument.Record(value, tag);
    }

    /// <summary>What a round's train phase consumed: <paramref name="pairs"/> preference pairs and
    /// <paramref name="tokens"/> tokens of training input in <paramref name="seconds"/> of wall time.</summary>
    public static void RecordThroughput(string runId, long pairs, long tokens, double seconds)
    {
        var tag = Run(runId);
        Pairs.Add(pairs, tag);
        Tokens.Add(tokens, tag);
        if (seconds <= 0)
            return;
        PairsPerSecond.Record(pairs / seconds, tag);
        TokensPerSecond.Record(tokens / seconds, tag);
    }

    public static void RecordEval(string runId, EvalResult eval)
    {
        var tag = Run(runId);
        OracleReward.Record(eval.OracleReward, tag);
        WinRate.Record(eval.WinRate, tag);
        Kl.Record(eval.KlToReference, tag);
    }

    public static void RecordChangeRate(string runId, double rate) => ChangeRate.Record(rate, Run(runId));

    public static void RecordRoundDone(string runId) => Rounds.Add(1, Run(runId));

    public static void RecordRestart(string runId) => Restarts.Add(1, Run(runId));
}
