namespace AlignCluster.Torch.Optim;

/// <summary>
/// A learning rate as a function of the step (0-based). Apply it before each optimizer step:
/// <c>optimizer.LearningRate = schedule.At(step)</c>.
/// </summary>
public abstract class LrSchedule
{
    /// <summary>The learning rate at <paramref name="step"/>.</summary>
    public abstract double At(long step);

    /// <summary>Sets <paramref name="optimizer"/>'s learning rate for <paramref name="step"/> and returns it.</summary>
    public double Apply(Optimizer optimizer, long step) => optimizer.LearningRate = At(step);

    /// <summary>Always <paramref name="learningRate"/>.</summary>
    public static LrSchedule Constant(double learningRate) => new Warmup(learningRate, 0, 1, 0, cosine: false, decay: false);

    /// <summary>
    /// Linear warmup from 0 to <paramref name="peak"/> over <paramref name="warmupSteps"/> steps (lr = peak·step/warmup,
    /// as HF's get_linear_schedule_with_warmup), then linear decay to <paramref name="minLearningRate"/> at
    /// <paramref name="totalSteps"/>.
    /// </summary>
    public static LrSchedule WarmupLinear(double peak, long warmupSteps, long totalSteps, double minLearningRate = 0) =>
        new Warmup(peak, warmupSteps, totalSteps, minLearningRate, cosine: false, decay: true);

    /// <summary>
    /// Linear warmup to <paramref name="peak"/>, then half-cosine decay to <paramref name="minLearningRate"/> at
    /// <paramref name="totalSteps"/> (HF's get_cosine_schedule_with_warmup with a floor).
    /// </summary>
    public static LrSchedule WarmupCosine(double peak, long warmupSteps, long totalSteps, double minLearningRate = 0) =>
        new Warmup(peak, warmupSteps, totalSteps, minLearningRate, cosine: true, decay: true);

    private sealed class Warmup : LrSchedule
    {
        private readonly double peak, min;
        private readonly long warmup, total;
        private readonly bool cosine, decay;

        public Warmup(double peak, long warmup, long total, double min, bool cosine, bool decay)
        {
            if (warmup < 0 || total < 1 || (decay && warmup > total))
                throw new ArgumentException($"bad schedule: warmup {warmup} steps, total {total} steps (need 0 ≤ warmup ≤ total, total ≥ 1)");
            (this.peak, this.warmup, this.total, this.min, this.cosine, this.decay) = (peak, warmup, total, min, cosine, decay);
        }

        public override double At(long step)
        {
            if (step < warmup) return peak * step / warmup;
            if (!decay) return peak;
            if (total == warmup) return min;
            var progress = Math.Clamp((double)(step - warmup) / (total - warmup), 0, 1);
            var factor = cosine ? 0.5 * (1 + Math.Cos(Math.PI * progress)) : 1 - progress;
            return min + (peak - min) * factor;
        }
    }
}
