namespace AlignCluster.Grains.Policy;

/// <summary>
/// A small deterministic random generator (SplitMix64) whose whole state is one <see cref="ulong"/>, so it can be
/// checkpointed and restored exactly. Seeds for sub-tasks are derived from (seed, labels) with <see cref="Derive"/>,
/// which makes each round's draws independent of how many draws earlier rounds made — and resume exact.
/// </summary>
public sealed class SeededRandom(ulong state)
{
    public ulong State { get; private set; } = state;

    /// <summary>Next 64 random bits (SplitMix64, Steele et al. 2014).</summary>
    public ulong NextULong()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int Next(int n) => (int)(NextDouble() * n);

    /// <summary>Standard Gumbel sample −log(−log U), for Gumbel-max / top-k draws.</summary>
    public double NextGumbel() => -Math.Log(-Math.Log(Math.Max(NextDouble(), 1e-300)));

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextGaussian() => Math.Sqrt(-2 * Math.Log(1 - NextDouble())) * Math.Cos(2 * Math.PI * NextDouble());

    /// <summary>In-place Fisher–Yates shuffle.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A seed derived from a base seed and labels (e.g. round, step, prompt id), stable across
    /// processes.</summary>
    public static ulong Derive(ulong seed, params object[] labels)
    {
        ulong h = seed ^ 0x243F6A8885A308D3UL;
        foreach (var label in labels)
        foreach (char c in label.ToString() + "\u0001")
            h = new SeededRandom(h ^ c).NextULong();
        return h;
    }
}
