using AlignCluster.Contracts;

namespace AlignCluster.Client.Demo;

/// <summary>One arm of the demo: a loss and a negative selector.</summary>
/// <param name="Name">Name in the tables, plots and results.json.</param>
public sealed record DemoMethod(string Name, string Loss, string Selection, string Description);

/// <summary>
/// The demo's controlled experiment (MC-PO's setting, scaled down to two CPU cores): a reverse-the-digits task with a
/// graded oracle; a tiny policy (by default a 2-layer GPT-2 on libtorch; `--policy toy` a log-linear model in C#)
/// SFT-trained from scratch on imperfect demonstrations (half of them have a wrong digit); candidate sets sampled from
/// it at temperatures 0.7 / 1.0 / 1.5 and ranked by the oracle (best =
/// chosen); then preference training with each method, every seed sharing the SFT policy and candidates of that seed.
/// Reported on held-out prompts: oracle reward (mean ± std over seeds), win-rate against the SFT policy, KL to it.
/// </summary>
public static class DemoProtocol
{
    public static readonly DemoMethod[] Methods =
    [
        new("dpo_random", "dpo", "random", "DPO, rejected drawn uniformly from the candidates (MC-PO's baseline)"),
        new("mcpo", "cd", "mc", "MC-PO: CD loss, negative sampled from the MC kernel, re-selected per step"),
        new("mcpo_max", "cd", "max", "MC-PO ablation: always the highest-weight (hardest) negative"),
        new("mcpo_min", "cd", "min", "MC-PO ablation: always the lowest-weight (easiest) negative"),
        new("minor_dpo", "minor_dpo", "random", "MinorDPO: rejected pushed down only while above the reference"),
        new("mppo_pair_mnm", "pair_mnm", "all", "MPPO pair_mnm: best vs all others, reference-free"),
        new("exo_rw", "exo_rw", "all", "EXO: reverse KL to softmax(oracle reward / β_r) over the whole candidate set"),
    ];

    /// <summary>The run config of one method and seed. <paramref name="quick"/> shrinks data and rounds for the
    /// 3-minute budget.</summary>
    public static RunConfig Config(DemoMethod method, ulong seed, bool quick, bool injectNoise) =>
        new()
        {
            RunId = $"demo-{method.Name}-s{seed}",
            Seed = seed,
            Shards = 4,
            Data = new DataConfig { TrainPrompts = quick ? 512 : 1024, EvalPrompts = quick ? 128 : 256 },
            Candidates = new CandidatesConfig { InjectNoise = injectNoise },
            Loss = new LossConfig
            {
                Name = method.Loss,
                Parameters = new() { ["beta"] = 0.1 },
            },
            Selection = new SelectionConfig { Strategy = method.Selection, Per = "step" },
            Training = new TrainingConfig { Rounds = quick ? 3 : 4 },
        };
}
