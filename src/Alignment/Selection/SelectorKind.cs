namespace AlignCluster.Alignment.Selection;

/// <summary>Strategies for picking the rejected response(s) of a prompt (MC-PO §6.3).</summary>
public enum SelectorKind
{
    /// <summary>Sample from Categorical(softmax(β·ρ)) over the candidates: the MC kernel (MC-PO Algorithm 1).</summary>
    Mc,

    /// <summary>The highest-weight candidate(s): argmax of β·ρ (hardest negatives).</summary>
    Max,

    /// <summary>The lowest-weight candidate(s): argmin of β·ρ (easiest negatives).</summary>
    Min,

    /// <summary>Uniform over the rejected candidates (the paper's baseline for every other loss).</summary>
    Random,

    /// <summary>The lowest-rated candidate(s) by score/rank: the usual max-gap heuristic.</summary>
    WorstRated,

    /// <summary>Every rejected candidate (the "augmented DPO" of MC-PO §6.4).</summary>
    All,
}

/// <summary>Names as written in configs and on the command line.</summary>
public static class SelectorNames
{
    private static readonly Dictionary<string, SelectorKind> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mc"] = SelectorKind.Mc,
        ["max"] = SelectorKind.Max,
        ["min"] = SelectorKind.Min,
        ["random"] = SelectorKind.Random,
        ["worst_rated"] = SelectorKind.WorstRated,
        ["all"] = SelectorKind.All,
    };

    /// <summary>Every name, in declaration order.</summary>
    public static IReadOnlyList<string> All { get; } = ["mc", "max", "min", "random", "worst_rated", "all"];

    /// <summary>The selector called <paramref name="name"/> (case-insensitive), if there is one.</summary>
    public static bool TryParse(string name, out SelectorKind kind) => ByName.TryGetValue(name, out kind);

    public static SelectorKind Parse(string name) =>
        ByName.TryGetValue(name, out var kind)
            ? kind
            : throw new ArgumentException($"unknown selector '{name}'; known: {string.Join(", ", ByName.Keys)}");

    public static string Name(SelectorKind kind) => ByName.First(p => p.Value == kind).Key;
}
