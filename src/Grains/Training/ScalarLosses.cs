namespace AlignCluster.Grains.Training;

// The losses the trainer applies, as scalar functions of per-sequence log-probs with their analytic gradients.
// Formulas: ALGORITHMS.md (which overrides the papers). ρ_i = logp_θ(y_i) − logp_ref(y_i); σ = logistic;
// softplus(x) = log(1 + eˣ), so −log σ(z) = softplus(−z) and d/dz[−log σ(z)] = −σ(−z).

/// <summary>
/// MC-PO's contrastive-divergence loss (eq. 11/12): L = −log( exp(βρ_0) / Σ_{i=0..M} exp(βρ_i) ).
/// ∂L/∂logp_i = β·(softmax(βρ)_i − 1[i = 0]). With M = 1 it is DPO's −log σ(β(ρ_w − ρ_l)) exactly, so "dpo" is this.
/// </summary>
public sealed class ContrastiveDivergenceLoss(string name, double beta) : IGroupLoss
{
    public string Name => name;
    public bool WholeGroup => false;

    public LossValue Evaluate(LossInputs x)
    {
        var r = Enumerable.Range(0, x.Count).Select(i => beta * x.Rho(i)).ToArray();
        double logZ = ScalarMath.LogSumExp(r);
        var grad = r.Select((ri, i) => beta * (Math.Exp(ri - logZ) - (i == 0 ? 1 : 0))).ToArray();
        return new LossValue(logZ - r[0], grad);
    }
}

/// <summary>
/// MinorDPO (eq. 6): L = −log σ(β ρ_w − β max(0, ρ_l)). The rejected response is only pushed down while it is above the
/// reference. ∂L/∂logp_w = −β σ(−z); ∂L/∂logp_l = β σ(−z)·1[ρ_l &gt; 0]. Uses the first negative.
/// </summary>
public sealed class MinorDpoLoss(double beta) : IGroupLoss
{
    public string Name => "minor_dpo";
    public bool WholeGroup => false;

    public LossValue Evaluate(LossInputs x)
    {
        double rhoL = x.Rho(1);
        double z = beta * x.Rho(0) - beta * Math.Max(0, rhoL);
        double s = ScalarMath.Sigmoid(-z);
        var grad = new double[x.Count];
        grad[0] = -beta * s;
        grad[1] = rhoL > 0 ? beta * s : 0;
        return new LossValue(ScalarMath.Softplus(-z), grad);
    }
}

/// <summary>
/// MPPO pair_mnm (best vs all, merged), reference-free: p(y) = exp(logp_θ(y)/len(y)),
/// L = −log σ(N·p(y_w) − Σ_{i=1..N} p(y_i)). ∂L/∂logp_0 = −σ(−z)·N·p_0/len_0; ∂L/∂logp_i = σ(−z)·p_i/len_i.
/// </summary>
public sealed class PairMnmLoss : IGroupLoss
{
    public string Name => "pair_mnm";
    public bool WholeGroup => true;

    public LossValue Evaluate(LossInputs x)
    {
        int n = x.Count - 1;
        var p = Enumerable.Range(0, x.Count).Select(i => Math.Exp(x.PolicyLogProbs[i] / x.Lengths[i])).ToArray();
        double z = n * p[0] - p.Skip(1).Sum();
        double s = ScalarMath.Sigmoid(-z);
        var grad = new double[x.Count];
        grad[0] = -s * n * p[0] / x.Lengths[0];
        for (int i = 1; i < x.Count; i++) grad[i] = s * p[i] / x.Lengths[i];
        return new LossValue(ScalarMath.Softplus(-z), grad);
    }
}

/// <summary>
/// EXO: f_i = β_π ρ_i, p_f = softmax(f), target p_t; L = KL(p_f ‖ p_t) = Σ_i p_f(i)(log p_f(i) − log p_t(i)).
/// ∂L/∂f_j = p_f(j)(log p_f(j) − log p_t(j) − L), so ∂L/∂logp_j = β_π·that.
/// exo_rw: p_t = softmax(R / β_r) over the whole group's ratings R. exo_pref: pairs, p_t = [1 − ε, ε].
/// </summary>
public sealed class ExoLoss(string name, double betaPi, double betaR, double epsilon) : IGroupLoss
{
    public string Name => name;
    public bool WholeGroup => name == "exo_rw";

    public LossValue Evaluate(LossInputs x)
    {
        var f = Enumerable.Range(0, x.Count).Select(i => betaPi * x.Rho(i)).ToArray();
        double logZf = ScalarMath.LogSumExp(f);
        var logPf = f.Select(v => v - logZf).ToArray();
        double[] logPt;
        if (WholeGroup)
        {
            var scaled = x.Ratings.Select(r => r / betaR).ToArray();
            double logZr = ScalarMath.LogSumExp(scaled);
            logPt = scaled.Select(v => v - logZr).ToArray();
        }
        else
        {
            logPt = new double[x.Count];
            logPt[0] = Math.Log(1 - epsilon);
            for (int i = 1; i < x.Count; i++) logPt[i] = Math.Log(epsilon / (x.Count - 1));
        }
        double loss = 0;
        for (int i = 0; i < x.Count; i++) loss += Math.Exp(logPf[i]) * (logPf[i] - logPt[i]);
        var grad = new double[x.Count];
        for (int j = 0; j < x.Count; j++) grad[j] = betaPi * Math.Exp(logPf[j]) * (logPf[j] - logPt[j] - loss);
        return new LossValue(loss, grad);
    }
}

internal static class ScalarMath
{
    public static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));
    public static double Softplus(double z) => z > 30 ? z : Math.Log(1 + Math.Exp(z));

    public static double LogSumExp(IReadOnlyList<double> values)
    {
        double max = values.Max();
        return max + Math.Log(values.Sum(v => Math.Exp(v - max)));
    }
}
