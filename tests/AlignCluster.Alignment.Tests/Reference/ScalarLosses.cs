namespace AlignCluster.Alignment.Tests.Reference;

/// <summary>
/// One prompt's group for the scalar reference: index 0 is the chosen (or the best-scored) response, 1..N the
/// others. Sequence log-probs under the policy and the reference, token counts, scores.
/// </summary>
public sealed record ScalarGroup(
    double[] Policy,
    double[]? Reference = null,
    double[]? Lengths = null,
    double[]? Scores = null
)
{
    public int Count => Policy.Length;

    public double Rho(int i) => Policy[i] - Reference![i];
}

/// <summary>Hyper-parameters, all explicit: the reference never relies on the library's defaults.</summary>
public sealed record ScalarHyper(
    double Beta = 0.1,
    double Epsilon = 0.1,
    double Lambda = 50,
    double Gamma = 0.5,
    double BetaPi = 0.5,
    double BetaR = 0.1
);

/// <summary>
/// Every loss of docs/alignment.md written in plain double arithmetic, straight from the formula table, one prompt at a
/// time. It is the test oracle for the tensor losses and deliberately shares no code with them: loops instead of
/// tensor ops, its own log-sigmoid, its own sorting. Pairwise losses with several negatives average over the
/// (chosen, negative_i) pairs, the documented batch semantics of the library.
/// </summary>
public static class ScalarLosses
{
    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    public static double LogSigmoid(double x) => x >= 0 ? -Math.Log(1 + Math.Exp(-x)) : x - Math.Log(1 + Math.Exp(x));

    private static double MeanOverNegatives(ScalarGroup g, Func<int, double> pairLoss)
    {
        double sum = 0;
        for (int i = 1; i < g.Count; i++)
            sum += pairLoss(i);
        return sum / (g.Count - 1);
    }

    private static double D(ScalarGroup g, int l) => g.Rho(0) - g.Rho(l);

    public static double Dpo(ScalarGroup g, ScalarHyper h) => MeanOverNegatives(g, l => -LogSigmoid(h.Beta * D(g, l)));

    public static double Ipo(ScalarGroup g, ScalarHyper h) => MeanOverNegatives(g, l =>
        {
            double dBar =
                (g.Policy[0] - g.Reference![0]) / g.Lengths![0] - (g.Policy[l] - g.Reference[l]) / g.Lengths[l];
            return Math.Pow(dBar - 1 / (2 * h.Beta), 2);
        });

    public static double Hinge(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l => Math.Max(0, 1 - h.Beta * D(g, l)));

    public static double Robust(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l =>
            (-(1 - h.Epsilon) * LogSigmoid(h.Beta * D(g, l)) + h.Epsilon * LogSigmoid(-h.Beta * D(g, l)))
            / (1 - 2 * h.Epsilon)
        );

    public static double Cdpo(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l =>
            -(1 - h.Epsilon) * LogSigmoid(h.Beta * D(g, l)) - h.Epsilon * LogSigmoid(-h.Beta * D(g, l))
        );

    public static double MinorDpo(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l => -LogSigmoid(h.Beta * g.Rho(0) - h.Beta * Math.Max(0, g.Rho(l))));

    public static double Dpop(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l => -LogSigmoid(h.Beta * D(g, l) - h.Beta * h.Lambda * Math.Max(0, -g.Rho(0))));

    public static double Simpo(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l =>
            -LogSigmoid(h.Beta / g.Lengths![0] * g.Policy[0] - h.Beta / g.Lengths[l] * g.Policy[l] - h.Gamma)
        );

    public static double Cpo(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l => -LogSigmoid(h.Beta * (g.Policy[0] - g.Policy[l])) - g.Policy[0]);

    public static double Orpo(ScalarGroup g, ScalarHyper h)
    {
        double LogOdds(int i)
        {
            double p = Math.Exp(g.Policy[i] / g.Lengths![i]);
            return Math.Log(p / (1 - p));
        }
        return MeanOverNegatives(g, l => -g.Policy[0] / g.Lengths![0] - h.Lambda * LogSigmoid(LogOdds(0) - LogOdds(l)));
    }

    public static double NcaPair(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l =>
            -LogSigmoid(h.Beta * g.Rho(0)) - 0.5 * LogSigmoid(-h.Beta * g.Rho(0)) - 0.5 * LogSigmoid(-h.Beta * g.Rho(l))
        );

    public static double BcoPair(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l => -LogSigmoid(h.Beta * g.Rho(0)) - LogSigmoid(-h.Beta * g.Rho(l)));

    public static double SppoHard(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l => Math.Pow(g.Rho(0) - 1 / (2 * h.Beta), 2) + Math.Pow(g.Rho(l) + 1 / (2 * h.Beta), 2));

    public static double ApoZero(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l => (1 - Sigmoid(h.Beta * g.Rho(0))) + Sigmoid(h.Beta * g.Rho(l)));

    public static double ApoDown(ScalarGroup g, ScalarHyper h) =>
        MeanOverNegatives(g, l => Sigmoid(h.Beta * g.Rho(0)) + (1 - Sigmoid(h.Beta * D(g, l))));

    /// <summary>MC-PO's CD loss: −log(exp(r_0) / Σ_i exp(r_i)), r_i = β ρ_i, over the chosen and every
    /// negative.</summary>
    public static double Cd(ScalarGroup g, ScalarHyper h)
    {
        double denominator = 0;
        for (int i = 0; i < g.Count; i++)
            denominator += Math.Exp(h.Beta * g.Rho(i));
        return -(h.Beta * g.Rho(0) - Math.Log(denominator));
    }

    // ---- MPPO: p(y) = exp(logp/len), reference-free ----
    private static double P(ScalarGroup g, int i) => Math.Exp(g.Policy[i] / g.Lengths![i]);

    public static double PointCe(ScalarGroup g, ScalarHyper _)
    {
        double sum = 0;
        for (int i = 0; i < g.Count; i++)
        {
            double p = P(g, i),
                s = g.Scores![i];
            sum += -(s * Math.Log(p) + (1 - s) * Math.Log(1 - p));
        }
        return sum;
    }

    public static double PointMse(ScalarGroup g, ScalarHyper _)
    {
        double sum = 0;
        for (int i = 0; i < g.Count; i++)
            sum += Math.Pow(g.Scores![i] - P(g, i), 2);
        return sum;
    }

    public static double PairSingle(ScalarGroup g, ScalarHyper _) => -LogSigmoid(P(g, 0) - P(g, 1));

    public static double PairMns(ScalarGroup g, ScalarHyper _)
    {
        double sum = 0;
        for (int i = 1; i < g.Count; i++)
            sum += -LogSigmoid(P(g, 0) - P(g, i));
        return sum;
    }

    public static double PairMnm(ScalarGroup g, ScalarHyper _)
    {
        double rejected = 0;
        for (int i = 1; i < g.Count; i++)
            rejected += P(g, i);
        return -LogSigmoid((g.Count - 1) * P(g, 0) - rejected);
    }

    public static double PairMcs(ScalarGroup g, ScalarHyper _)
    {
        double sum = 0;
        for (int a = 0; a < g.Count; a++)
        for (int b = 0; b < g.Count; b++)
            if (g.Scores![a] > g.Scores[b])
                sum += -LogSigmoid(P(g, a) - P(g, b));
        return sum;
    }

    public static double PairMcm(ScalarGroup g, ScalarHyper _)
    {
        double inner = 0;
        for (int a = 0; a < g.Count; a++)
        for (int b = 0; b < g.Count; b++)
            if (g.Scores![a] > g.Scores[b])
                inner += P(g, a) - P(g, b);
        return -LogSigmoid(inner);
    }

    public static double ListMle(ScalarGroup g, ScalarHyper _)
    {
        // Sort by descending score; equal scores keep their input order (insertion sort is stable).
        var order = Enumerable.Range(0, g.Count).ToList();
        for (int i = 1; i < order.Count; i++)
        for (int j = i; j > 0 && g.Scores![order[j]] > g.Scores[order[j - 1]]; j--)
            (order[j], order[j - 1]) = (order[j - 1], order[j]);
        double loss = 0;
        for (int i = 0; i < order.Count; i++)
        {
            double tail = 0;
            for (int j = i; j < order.Count; j++)
                tail += Math.Exp(P(g, order[j]));
            loss += -(P(g, order[i]) - Math.Log(tail));
        }
        return loss;
    }

    // ---- EXO ----
    private static double[] Softmax(double[] logits)
    {
        double max = logits.Max();
        var e = logits.Select(x => Math.Exp(x - max)).ToArray();
        double sum = e.Sum();
        return e.Select(x => x / sum).ToArray();
    }

    private static double[] PolicyDistribution(ScalarGroup g, ScalarHyper h) =>
        Softmax(Enumerable.Range(0, g.Count).Select(i => h.BetaPi * g.Rho(i)).ToArray());

    private static double Kl(double[] p, double[] q)
    {
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
            sum += p[i] * (Math.Log(p[i]) - Math.Log(q[i]));
        return sum;
    }

    public static double ExoPref(ScalarGroup g, ScalarHyper h) =>
        Kl(PolicyDistribution(g, h), [1 - h.Epsilon, h.Epsilon]);

    public static double ExoRw(ScalarGroup g, ScalarHyper h) =>
        Kl(PolicyDistribution(g, h), Softmax(g.Scores!.Select(r => r / h.BetaR).ToArray()));

    public static double DpoRw(ScalarGroup g, ScalarHyper h)
    {
        var pf = PolicyDistribution(g, h);
        var pr = Softmax(g.Scores!.Select(r => r / h.BetaR).ToArray());
        double sum = 0;
        for (int i = 0; i < g.Count; i++)
            sum += -pr[i] * Math.Log(pf[i]);
        return sum;
    }

    /// <summary>Every loss by its registry name.</summary>
    public static readonly IReadOnlyDictionary<string, Func<ScalarGroup, ScalarHyper, double>> ByName = new Dictionary<
        string,
        Func<ScalarGroup, ScalarHyper, double>
    >
    {
        ["dpo"] = Dpo,
        ["ipo"] = Ipo,
        ["hinge"] = Hinge,
        ["robust"] = Robust,
        ["cdpo"] = Cdpo,
        ["minor_dpo"] = MinorDpo,
        ["dpop"] = Dpop,
        ["simpo"] = Simpo,
        ["cpo"] = Cpo,
        ["orpo"] = Orpo,
        ["nca_pair"] = NcaPair,
        ["bco_pair"] = BcoPair,
        ["sppo_hard"] = SppoHard,
        ["apo_zero"] = ApoZero,
        ["apo_down"] = ApoDown,
        ["cd"] = Cd,
        ["point_ce"] = PointCe,
        ["point_mse"] = PointMse,
        ["pair_single"] = PairSingle,
        ["pair_mns"] = PairMns,
        ["pair_mnm"] = PairMnm,
        ["pair_mcs"] = PairMcs,
        ["pair_mcm"] = PairMcm,
        ["list_mle"] = ListMle,
        ["exo_pref"] = ExoPref,
        ["exo_rw"] = ExoRw,
        ["dpo_rw"] = DpoRw,
    };
}
