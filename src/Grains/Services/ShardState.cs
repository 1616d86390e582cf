using AlignCluster.Interfaces;
using AlignCluster.Runtime;

namespace AlignCluster.Grains.Services;

/// <summary>A prompt shard's durable state: its prompts and candidates (with cached reference log-probs) and the selection history.</summary>
[GenerateSerializer]
public sealed class ShardState
{
    public string RunId { get; set; } = "";
    public List<PromptGroup> Groups { get; set; } = [];
    /// <summary>Negatives picked per prompt in <see cref="LastRound"/>.</summary>
    public Dictionary<string, string[]> LastNegatives { get; set; } = [];
    /// <summary>Negatives picked per prompt in the round before.</summary>
    public Dictionary<string, string[]> PreviousNegatives { get; set; } = [];
    public int LastRound { get; set; } = -1;
    /// <summary>Per round: fraction of prompts whose negatives changed from the round before.</summary>
    public List<double> ChangeRates { get; set; } = [];
}
