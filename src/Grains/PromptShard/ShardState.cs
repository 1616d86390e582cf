using AlignCluster.Contracts;

namespace AlignCluster.Grains.PromptShard;

/// <summary>A prompt shard's durable state: its prompts and candidates (with cached reference log-probs) and the
/// selection history.</summary>
[GenerateSerializer, Alias("AlignCluster.ShardState")]
public sealed class ShardState
{
    [Id(0)]
    public string RunId { get; set; } = "";

    [Id(1)]
    public List<PromptGroup> Groups { get; set; } = [];

    /// <summary>Negatives picked per prompt in <see cref="LastRound"/>.</summary>
    [Id(2)]
    public Dictionary<string, string[]> LastNegatives { get; set; } = [];

    /// <summary>Negatives picked per prompt in the round before.</summary>
    [Id(3)]
    public Dictionary<string, string[]> PreviousNegatives { get; set; } = [];

    [Id(4)]
    public int LastRound { get; set; } = -1;

    /// <summary>Per round: fraction of prompts whose negatives changed from the round before.</summary>
    [Id(5)]
    public List<double> ChangeRates { get; set; } = [];

    /// <summary>Entropy (nats) of the selection distribution per prompt selected for in <see
    /// cref="LastRound"/>.</summary>
    [Id(6)]
    public Dictionary<string, double> LastEntropies { get; set; } = [];
}
