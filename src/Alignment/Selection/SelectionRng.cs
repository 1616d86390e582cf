using System.Text;

namespace AlignCluster.Alignment.Selection;

/// <summary>
/// A small SplitMix64 generator. We do not use <see cref="Random"/> because its seeded sequence is not promised to
/// stay the same across .NET versions, and a run's selections must be reproducible from its seed on every silo.
/// <see cref="For"/> derives an independent stream per (seed, round, prompt), so the result does not depend on which
/// shard or in which order prompts are processed.
/// </summary>
public sealed class SelectionRng(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The stream for one prompt in one round of a run seeded with <paramref name="seed"/>.</summary>
    public static SelectionRng For(ulong seed, long round, string promptId)
    {
        ulong h = 14695981039346656037UL; // FNV-1a over the id's UTF-8 bytes: stable across processes
        foreach (byte b in Encoding.UTF8.GetBytes(promptId))
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        return new SelectionRng(Mix(seed ^ Mix(h ^ Mix((ulong)round + 0x9E3779B97F4A7C15UL))));
    }

    public ulong NextUInt64() => Mix(_state += 0x9E3779B97F4A7C15UL);

    /// <summary>Uniform in the open interval (0, 1): never 0, so log(u) is finite.</summary>
    public double NextOpenUnit() => ((NextUInt64() >> 11) + 0.5) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)(NextOpenUnit() * n);

    /// <summary>A standard Gumbel variate: −log(−log u).</summary>
    public double NextGumbel() => -Math.Log(-Math.Log(NextOpenUnit()));

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
