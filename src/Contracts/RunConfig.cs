namespace AlignCluster.Contracts;

// The run configuration: YAML (snake_case keys) → these records. Every default below is the documented default
// (docs/cluster.md lists them). Loading and validation live in AlignCluster.Grains.Configuration.RunConfigLoader.

/// <summary>A whole run: what policy, what data, which loss and selector, how many rounds, where state goes.</summary>
[GenerateSerializer, Alias("AlignCluster.RunConfig")]
public sealed record RunConfig
{
    /// <summary>Names the run; the coordinator grain's key and the checkpoint prefix. Letters, digits, '-', '_',
    /// '.'.</summary>
    [Id(0)]
    public string RunId { get; init; } = "run";

    /// <summary>Seeds everything (initial weights, sampling, batch order, kernel draws).</summary>
    [Id(1)]
    public ulong Seed { get; init; } = 1;

    [Id(2)]
    public PolicyConfig Policy { get; init; } = new();

    [Id(3)]
    public DataConfig Data { get; init; } = new();

    [Id(4)]
    public SftConfig Sft { get; init; } = new();

    [Id(5)]
    public CandidatesConfig Candidates { get; init; } = new();

    [Id(6)]
    public LossConfig Loss { get; init; } = new();

    [Id(7)]
    public SelectionConfig Selection { get; init; } = new();

    [Id(8)]
    public TrainingConfig Training { get; init; } = new();

    [Id(9)]
    public OnlineConfig Online { get; init; } = new();

    [Id(10)]
    public RewardConfig Reward { get; init; } = new();

    [Id(11)]
    public EvalConfig Eval { get; init; } = new();

    [Id(12)]
    public CheckpointConfig Checkpoint { get; init; } = new();

    /// <summary>Prompt-shard grains the prompts are spread over.</summary>
    [Id(13)]
    public int Shards { get; init; } = 4;

    /// <summary>
    /// Start from the prepared round 0 (SFT policy, rated candidates, reference log-probs, baseline) of an earlier run
    /// whose preparation inputs were identical — e.g. the other losses of a sweep with the same seed — instead of
    /// recomputing it. Preparation is deterministic, so the result is the same either way.
    /// </summary>
    [Id(14)]
    public bool ReusePreparation { get; init; } = true;
}

/// <summary>The policy. kind toy: the demo's log-linear policy over the toy vocabulary; kind hf: a Hugging Face model
/// directory.</summary>
[GenerateSerializer, Alias("AlignCluster.PolicyConfig")]
public sealed record PolicyConfig
{
    [Id(0)]
    public string Kind { get; init; } = "toy";

    /// <summary>hf: model directory (config.json, model.safetensors, tokenizer.json).</summary>
    [Id(1)]
    public string? Path { get; init; }

    [Id(2)]
    public int MaxResponseLength { get; init; } = 10;

    [Id(3)]
    public double WeightDecay { get; init; } = 0.0;

    [Id(4)]
    public double GradClip { get; init; } = 1.0;
}

/// <summary>Where prompts and candidates come from: the built-in synthetic task, or a JSONL file.</summary>
[GenerateSerializer, Alias("AlignCluster.DataConfig")]
public sealed record DataConfig
{
    /// <summary>task: generate prompts from <see cref="Task"/>; file: read preference data (JSONL) from <see
    /// cref="Path"/>.</summary>
    [Id(0)]
    public string Source { get; init; } = "task";

    /// <summary>reverse_digits: reverse a string of digits (graded oracle: fraction of positions right).</summary>
    [Id(1)]
    public string Task { get; init; } = "reverse_digits";

    [Id(2)]
    public string? Path { get; init; }

    [Id(3)]
    public int TrainPrompts { get; init; } = 1024;

    /// <summary>Held-out prompts for evaluation (task: generated apart from the training prompts; file: held out of the
    /// file).</summary>
    [Id(4)]
    public int EvalPrompts { get; init; } = 256;

    [Id(5)]
    public int MinLength { get; init; } = 3;

    [Id(6)]
    public int MaxLength { get; init; } = 6;

    /// <summary>Probability that a demonstration has one digit replaced at random (imperfect demonstrations).</summary>
    [Id(7)]
    public double DemonstrationNoise { get; init; } = 0.5;

    /// <summary>File data with policy.kind hf: the most prompt tokens (after the chat template); responses are bounded
    /// by policy.max_response_length.</summary>
    [Id(8)]
    public int MaxPromptTokens { get; init; } = 512;

    /// <summary>File data with policy.kind hf: false = a prompt or response over its limit is an error; true = prompts
    /// keep their last
    /// data.max_prompt_tokens tokens and responses their first policy.max_response_length − 1 tokens plus the end
    /// token.</summary>
    [Id(9)]
    public bool Truncate { get; init; }
}

/// <summary>Supervised fine-tuning from scratch on the demonstrations before preference training (toy
/// policy).</summary>
[GenerateSerializer, Alias("AlignCluster.SftConfig")]
public sealed record SftConfig
{
    [Id(0)]
    public bool Enabled { get; init; } = true;

    [Id(1)]
    public int Epochs { get; init; } = 3;

    [Id(2)]
    public int BatchSize { get; init; } = 16;

    [Id(3)]
    public double LearningRate { get; init; } = 0.02;
}

/// <summary>Candidate sets sampled from the SFT policy and ranked by the reward function.</summary>
[GenerateSerializer, Alias("AlignCluster.CandidatesConfig")]
public sealed record CandidatesConfig
{
    [Id(0)]
    public double[] Temperatures { get; init; } = [0.7, 1.0, 1.5];

    [Id(1)]
    public int PerTemperature { get; init; } = 2;

    /// <summary>MC-PO Table 2: add a corrupted copy of the chosen (two tokens swapped) to every candidate
    /// set.</summary>
    [Id(2)]
    public bool InjectNoise { get; init; }
}

/// <summary>A loss of the registry by name with its hyper-parameters.</summary>
[GenerateSerializer, Alias("AlignCluster.LossConfig")]
public sealed record LossConfig
{
    /// <summary>dpo, cd (MC-PO's CD loss with M negatives), minor_dpo, pair_mnm, exo_pref, exo_rw, … .</summary>
    [Id(0)]
    public string Name { get; init; } = "dpo";

    /// <summary>β, ε, λ, γ, beta_pi, beta_r …; missing ones take the registry's defaults.</summary>
    [Id(1)]
    public Dictionary<string, double> Parameters { get; init; } = new() { ["beta"] = 0.1 };
}

/// <summary>The rejected-response selector (docs/alignment.md, MC-PO).</summary>
[GenerateSerializer, Alias("AlignCluster.SelectionConfig")]
public sealed record SelectionConfig
{
    [Id(0)]
    public string Strategy { get; init; } = "random";

    [Id(1)]
    public int Negatives { get; init; } = 1;

    [Id(2)]
    public bool IncludeChosen { get; init; }

    /// <summary>round: select at round start; step: re-select on each batch just before its step.</summary>
    [Id(3)]
    public string Per { get; init; } = "step";
}

[GenerateSerializer, Alias("AlignCluster.TrainingConfig")]
public sealed record TrainingConfig
{
    [Id(0)]
    public int Rounds { get; init; } = 4;

    [Id(1)]
    public int BatchSize { get; init; } = 16;

    [Id(2)]
    public double LearningRate { get; init; } = 0.02;

    /// <summary>
    /// Data-parallel trainer grains (one per device: GPUs, or the CPU "devices" a silo declares). Each trains on its
    /// share of every batch and the gradients are summed (Gloo or NCCL), so the steps are one trainer's; scoring and
    /// sampling are split among them.
    /// </summary>
    [Id(3)]
    public int Trainers { get; init; } = 1;

    /// <summary>
    /// Seconds a run waits for free devices when its trainers are placed (another run may still hold them, or a
    /// placement that never started still reserves one) before it fails; 0 fails at once.
    /// </summary>
    [Id(4)]
    public double DeviceWait { get; init; } = 120;
}

/// <summary>Online rounds: every <see cref="Every"/> rounds generate new candidates with the current policy and merge
/// them.</summary>
[GenerateSerializer, Alias("AlignCluster.OnlineConfig")]
public sealed record OnlineConfig
{
    /// <summary>0 = offline.</summary>
    [Id(0)]
    public int Every { get; init; }

    [Id(1)]
    public int Generations { get; init; } = 2;

    [Id(2)]
    public double Temperature { get; init; } = 1.0;

    /// <summary>Most candidates a prompt keeps; the lowest-rated generated ones go first.</summary>
    [Id(3)]
    public int Cap { get; init; } = 12;
}

/// <summary>The reward function that rates candidates: a rule plugin, a reward-model checkpoint, or an HTTP
/// judge.</summary>
[GenerateSerializer, Alias("AlignCluster.RewardConfig")]
public sealed record RewardConfig
{
    /// <summary>rule | model | http.</summary>
    [Id(0)]
    public string Kind { get; init; } = "rule";

    /// <summary>rule: plugin name (reverse_digits). model: checkpoint dir. http: judge URL.</summary>
    [Id(1)]
    public string Name { get; init; } = "reverse_digits";
}

[GenerateSerializer, Alias("AlignCluster.EvalConfig")]
public sealed record EvalConfig
{
    /// <summary>Evaluate on the held-out prompts every N rounds (and always after the last round); 0 = only at the
    /// end.</summary>
    [Id(0)]
    public int Every { get; init; } = 1;

    [Id(1)]
    public int SamplesPerPrompt { get; init; } = 2;

    [Id(2)]
    public double Temperature { get; init; } = 1.0;
}

[GenerateSerializer, Alias("AlignCluster.CheckpointConfig")]
public sealed record CheckpointConfig
{
    /// <summary>Checkpoint every N rounds (the last round always).</summary>
    [Id(0)]
    public int Every { get; init; } = 1;

    /// <summary>
    /// A round that fails once the run is prepared (a trainer's or shard's silo died, a collective broke) is retried
    /// from the last checkpoint, at most this many times in a row for the same round (waits 5 s, 10 s, 20 s … between);
    /// 0 = the run fails at once.
    /// </summary>
    [Id(1)]
    public int Restarts { get; init; } = 3;
}
