using System.Diagnostics;
using System.Diagnostics.Metrics;
using AlignCluster.Interfaces;

namespace AlignCluster.Grains.Telemetry;

/// <summary>
/// The cluster's OpenTelemetry sources. Spans: run → round → select / score / train / generate / evaluate / checkpoint
/// (and prepare before the first round), on ActivitySource "AlignCluster.Cluster"; grain calls made inside a phase carry
/// its context (traceparent) so trainer and shard spans hang under it. Metrics: TRL-named histograms on Meter
/// "AlignCluster.Cluster" ("loss", "rewards/chosen", "rewards/margins", …) tagged with run.id, plus the oracle reward.
/// </summary>
public static class ClusterTelemetry
{
    public const string Name = "AlignCluster.Cluster";
    public static readonly ActivitySource Source = new(Name, "1.0");
    public static readonly Meter Meter = new(Name, "1.0");

    private static readonly Dictionary<string, Histogram<double>> StepInstruments = new();
    private static readonly Histogram<double> OracleReward = Meter.CreateHistogram<double>("eval/oracle_reward");
    private static readonly Histogram<double> WinRate = Meter.CreateHistogram<double>("eval/win_rate");
    private static readonly Histogram<double> Kl = Meter.CreateHistogram<double>("eval/kl_to_reference");
    private static readonly Histogram<double> ChangeRate = Meter.CreateHistogram<double>("selection/change_rate");
    private static readonly Counter<long> Restarts = Meter.CreateCounter<long>("run/restarts", description: "rounds retried from the last checkpoint after a failure");

    /// <summary>Starts a phase span (null when nobody listens); tags go on as attributes.</summary>
    public static Activity? StartPhase(string phase, string runId, int? round = null)
    {
        var activity = Source.StartActivity(phase, ActivityKind.Internal);
        activity?.SetTag("run.id", runId);
        if (round is not null) activity?.SetTag("round", round.Value);
        return activity;
    }

    public static void RecordSteps(string runId, IEnumerable<StepMetrics> steps)
    {
        var tag = new KeyValuePair<string, object?>("run.id", runId);
        foreach (var step in steps)
            foreach (var (name, value) in step.Named())
            {
                Histogram<double> instrument;
                lock (StepInstruments)
                    if (!StepInstruments.TryGetValue(name, out instrument!))
                        StepInstruments[name] = instrument = Meter.CreateHistogram<double>(name);
                instrument.Record(value, tag);
            }
    }

    public static void RecordEval(string runId, EvalResult eval)
    {
        var tag = new KeyValuePair<string, object?>("run.id", runId);
        OracleReward.Record(eval.OracleReward, tag);
        WinRate.Record(eval.WinRate, tag);
        Kl.Record(eval.KlToReference, tag);
    }

    public static void RecordChangeRate(string runId, double rate) =>
        ChangeRate.Record(rate, new KeyValuePair<string, object?>("run.id", runId));

    public static void RecordRestart(string runId) => Restarts.Add(1, new KeyValuePair<string, object?>("run.id", runId));
}
