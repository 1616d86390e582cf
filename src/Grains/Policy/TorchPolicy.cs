using AlignCluster.Contracts;
using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Training;
using AlignCluster.Models;
using AlignCluster.Models.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlignCluster.Grains.Policy;

/// <summary>
/// A transformer policy on libtorch: an <see cref="CausalLM"/> (GPT-2 or Llama family) with an AdamW optimizer.
/// Kinds: <c>hf</c> loads a Hugging Face model directory (its own tokenizer ids, prompts used as given);
/// <c>gpt2</c> and <c>llama</c> create a tiny randomly initialized model over the demo's <see cref="ToyVocabulary"/>
/// (every prompt is fed as [BOS] + prompt, so the first response token always has context).
/// <para>
/// Every call but <see cref="Forward"/> opens its own dispose scope and finishes it before returning (no await), so
/// intermediate tensors are freed deterministically and the policy may be called from any thread, one call at a time
/// (the trainer grain serializes calls). A training step's scope is its <see cref="Forward"/> pass's: it spans the
/// backward, clipping and the optimizer step (TrainerService.Step). Gradients live in the parameters between the
/// backward and <see cref="Step"/>.
/// </para>
/// </summary>
public sealed class TorchPolicy : IPolicyModel, IDisposable
{
    /// <summary>Sequences per forward pass when scoring or back-propagating (bounds peak memory).</summary>
    private const int BatchSize = 64;

    /// <summary>Responses scored together without gradients (prompts shared: <see
    /// cref="SequenceScoring.ScoreGroups"/>).</summary>
    private const int ScoreRows = 256;

    /// <summary>Prompts decoded together by <see cref="SampleBatch"/>.</summary>
    private const int SampleBatchRows = 256;

    /// <summary>Most sequences <see cref="Forward"/> keeps in one autograd graph; more → two passes in
    /// batches.</summary>
    private const int GraphRows = 256;

    /// <summary>Width, depth and heads of the from-scratch models: small enough for the demo on 2 CPU cores.</summary>
    public const int TinyHidden = 48,
        TinyLayers = 2,
        TinyHeads = 4;

    private readonly CausalLM _model;
    private readonly (string Name, Parameter Parameter)[] _parameters; // optimizer order = state-dict order
    private readonly AdamWOptimizer _optimizer; // ours: see AdamWOptimizer for why
    private readonly int[] _promptPrefix; // prepended to every prompt ([BOS] or none)
    private readonly int _padId;
    private readonly HashSet<int> _stopIds;
    private readonly int _maxResponse;
    private readonly double _weightDecay,
        _gradClip;
    private bool _hasGradient;

    private TorchPolicy(
        string kind,
        CausalLM model,
        int[] promptPrefix,
        int padId,
        IEnumerable<int> stopIds,
        int maxResponse,
        double weightDecay,
        double gradClip
    )
    {
        Kind = kind;
        _model = model;
        _model.eval(); // our models have no dropout; eval only documents that the forward is deterministic
        _parameters = model.named_parameters().ToArray();
        _optimizer = new AdamWOptimizer(_parameters.Select(p => (Tensor)p.Parameter), weightDecay);
        _promptPrefix = promptPrefix;
        _padId = padId;
        _stopIds = stopIds.ToHashSet();
        _maxResponse = maxResponse;
        _weightDecay = weightDecay;
        _gradClip = gradClip;
    }

    /// <summary>Builds the policy <paramref name="spec"/> names (kind gpt2, llama or hf) with its weights on <paramref
    /// name="device"/>.</summary>
    public static TorchPolicy Create(PolicySpec spec, Device device)
    {
        if (spec.Kind == "hf")
        {
            if (string.IsNullOrEmpty(spec.Path))
                throw new ArgumentException("policy kind 'hf' needs policy.path (a Hugging Face model directory)");
            // The policy owns the loaded network (the LanguageModel's Dispose would only dispose that network).
            var loaded = LanguageModel.Load(spec.Path, device: device);
            // The prompt is used as given (already formatted, BOS included); only an empty one gets BOS (or EOS) as
            // context.
            return new TorchPolicy(
                "hf",
                loaded.Network,
                [],
                loaded.PadId,
                loaded.StopTokenIds,
                spec.MaxResponseLength,
                spec.WeightDecay,
                spec.GradClip
            )
            {
                _emptyPromptContext = loaded.BosId ?? loaded.EosId ?? loaded.PadId,
            };
        }
        var config = TinyConfig(spec.Kind, spec.MaxPromptLength, spec.MaxResponseLength);
        using var generator = new Generator(spec.Seed);
        // Initialized on the CPU and built on the device (never moved): the same weights on any device.
        var model = CausalLM.Create(config, ScalarType.Float32, generator, device);
        return FromScratch(spec.Kind, model, spec);
    }

    private static TorchPolicy FromScratch(string kind, CausalLM model, PolicySpec spec) =>
        new(
            kind,
            model,
            [ToyVocabulary.Bos],
            ToyVocabulary.Pad,
            [ToyVocabulary.Eos],
            spec.MaxResponseLength,
            spec.WeightDecay,
            spec.GradClip
        )
        {
            _spec = spec,
        };

    private PolicySpec? _spec; // gpt2/llama: what built this policy (Snapshot rebuilds from it)
    private int? _emptyPromptContext; // hf: the token an empty prompt is replaced by

    /// <summary>
    /// The from-scratch architecture of kind gpt2 or llama over the toy vocabulary: <see cref="TinyLayers"/> blocks of
    /// width <see cref="TinyHidden"/>, positions for BOS + the longest prompt + the longest response.
    /// </summary>
    public static ModelConfig TinyConfig(string kind, int maxPromptLength, int maxResponseLength)
    {
        int positions = 1 + maxPromptLength + maxResponseLength;
        var common = new ModelConfig
        {
            ModelType = kind,
            VocabSize = ToyVocabulary.Size,
            HiddenSize = TinyHidden,
            NumLayers = TinyLayers,
            NumHeads = TinyHeads,
            NumKvHeads = TinyHeads,
            HeadDim = TinyHidden / TinyHeads,
            IntermediateSize = 4 * TinyHidden,
            MaxPositions = positions,
            BosTokenId = ToyVocabulary.Bos,
            EosTokenIds = [ToyVocabulary.Eos],
            PadTokenId = ToyVocabulary.Pad,
        };
        return kind switch
        {
            // GPT-2: LayerNorm, learned positions, tied LM head, biases everywhere (HF defaults).
            "gpt2" => common with { TieWordEmbeddings = true, QkvBias = true, OutputProjBias = true, MlpBias = true },
            // Llama: RMSNorm, RoPE, SwiGLU (intermediate ≈ 8/3·C), grouped-query attention with 2 KV heads.
            "llama" => common with { NumKvHeads = TinyHeads / 2, IntermediateSize = 128, NormEps = 1e-6 },
            _ => throw new ArgumentException($"unknown transformer policy kind '{kind}'; known: gpt2, llama, hf"),
        };
    }

    /// <summary>A new network with <paramref name="source"/>'s architecture and a copy of its weights.</summary>
    private static CausalLM CloneOf(CausalLM source)
    {
        return source.Clone(); // copies values (no shared storage)
    }

    /// <inheritdoc />
    public string Kind { get; }

    /// <summary>The network (tests compare against its logits).</summary>
    public CausalLM Network => _model;

    /// <summary>The token ids the model sees for <paramref name="prompt"/>: the kind's prefix, then the
    /// prompt.</summary>
    public int[] ModelPrompt(int[] prompt) =>
        prompt.Length == 0 && _emptyPromptContext is { } context ? [context] : [.. _promptPrefix, .. prompt];

    private List<ScoringRow> Rows(IEnumerable<Sequence> sequences) =>
        sequences.Select(s => new ScoringRow(ModelPrompt(s.Prompt), s.Response)).ToList();

    /// <inheritdoc />
    public double[] LogProbs(IReadOnlyList<Sequence> sequences)
    {
        if (sequences.Count == 0)
            return [];
        // Consecutive sequences with the same prompt (a prompt's candidates) form a group whose prompt is run once.
        var groups = new List<(IReadOnlyList<int> Prompt, IReadOnlyList<IReadOnlyList<int>> Responses)>();
        for (int i = 0; i < sequences.Count; )
        {
            int j = i + 1;
            while (j < sequences.Count && sequences[j].Prompt.AsSpan().SequenceEqual(sequences[i].Prompt))
                j++;
            groups.Add(
                (
                    ModelPrompt(sequences[i].Prompt),
                    Enumerable.Range(i, j - i).Select(k => (IReadOnlyList<int>)sequences[k].Response).ToList()
                )
            );
            i = j;
        }
        return TorchGaps
            .Checked("scoring", () => SequenceScoring.ScoreGroups(_model, groups, _padId, ScoreRows))
            .Select(s => s.Sum)
            .ToArray();
    }

    /// <inheritdoc />
    /// <remarks>Back-propagates the surrogate Σ_i w_i·logp_i per batch; libtorch adds into each parameter's
    /// .grad.</remarks>
    public void AccumulateGradient(IReadOnlyList<Sequence> sequences, IReadOnlyList<double> weights)
    {
        if (weights.Count != sequences.Count)
            throw new ArgumentException($"{sequences.Count} sequences but {weights.Count} weights");
        for (int start = 0; start < sequences.Count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, sequences.Count - start);
            var w = new float[n];
            for (int i = 0; i < n; i++)
                w[i] = (float)weights[start + i];
            if (w.All(x => x == 0))
                continue; // nothing to add
            using var scope = torch.NewDisposeScope();
            using var grad = torch.enable_grad();
            using var logps = TorchGaps.Checked("training forward", () =>
                SequenceScoring.Compute(_model, Rows(sequences.Skip(start).Take(n)), _padId)
            ); // (B)
            BackpropagateWeighted(logps.Sum, w);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Opens the step's dispose scope. Up to <see cref="GraphRows"/> sequences: one forward with the autograd graph
    /// kept, and the backward of Σ_i w_i·logp_i over it. Larger sets score without gradients here and back-propagate
    /// in batches at the backward (<see cref="AccumulateGradient"/>).
    /// </remarks>
    public IForwardPass Forward(IReadOnlyList<Sequence> sequences) =>
        sequences.Count > GraphRows ? new RescoringForwardPass(this, sequences) : new GraphForwardPass(this, sequences);

    /// <summary>One forward whose autograd graph lives, with every tensor of the step, until the pass is
    /// disposed.</summary>
    private sealed class GraphForwardPass : IForwardPass
    {
        private readonly TorchPolicy _policy;
        private readonly DisposeScope _scope;
        private readonly IDisposable _grad;
        private readonly Tensor? _logps; // (B)

        public GraphForwardPass(TorchPolicy policy, IReadOnlyList<Sequence> sequences)
        {
            _policy = policy;
            _scope = torch.NewDisposeScope();
            _grad = torch.enable_grad();
            if (sequences.Count == 0)
            {
                LogProbs = [];
                return;
            }
            _logps = TorchGaps
                .Checked("training forward", () =>
                    SequenceScoring.Compute(policy._model, policy.Rows(sequences), policy._padId)
                )
                .Sum; // (B)
            LogProbs = _logps.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        }

        public double[] LogProbs { get; }

        public void Backward(IReadOnlyList<double> weights)
        {
            if (weights.Count != LogProbs.Length)
                throw new ArgumentException($"{LogProbs.Length} sequences but the loss gave {weights.Count} weights");
            if (_logps is not null && weights.Any(w => w != 0))
                _policy.BackpropagateWeighted(_logps, [.. weights.Select(x => (float)x)]);
        }

        public void Dispose()
        {
            _grad.Dispose();
            _scope.Dispose();
        }
    }

    /// <summary>Back-propagates the surrogate Σ_i w_i·logp_i of (B) log-probs; libtorch adds into each parameter's
    /// .grad.</summary>
    private void BackpropagateWeighted(Tensor logpSums, float[] weights)
    {
        (logpSums * torch.tensor(weights, device: logpSums.device)).sum().backward(); // ()
        _hasGradient = true;
    }

    /// <inheritdoc />
    /// <remarks>A replica with nothing accumulated joins with zeros, and steps when any replica had a
    /// gradient.</remarks>
    public void SumGradient(TrainerGroup group)
    {
        if (group.WorldSize == 1)
            return;
        if (group.Sum(_hasGradient ? 1 : 0)[0] == 0)
            return;
        group.SumGradients(_parameters.Select(p => p.Parameter));
        _hasGradient = true;
    }

    /// <inheritdoc />
    /// <remarks>No accumulated gradient (every weight was 0): nothing to clip, returns 0.</remarks>
    public double ClipGradient() => _hasGradient ? _optimizer.ClipGradNorm(_gradClip) : 0; // 0 = no clipping

    /// <inheritdoc />
    public void Step(double learningRate)
    {
        if (!_hasGradient)
            return;
        _optimizer.Step(learningRate); // descends .grad = ∂loss/∂θ (the backward's weights are ∂loss/∂logp)
        _optimizer.ZeroGrad();
        _hasGradient = false;
    }

    /// <inheritdoc />
    public (int[] Response, double LogProb) Sample(
        int[] prompt,
        double temperature,
        int maxNewTokens,
        SeededRandom random
    )
    {
        var response = SampleBatch([prompt], [random.NextULong()], temperature, maxNewTokens)[0];
        return (response, response.Length == 0 ? 0 : LogProbs([new Sequence(prompt, response)])[0]);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Decodes up to <see cref="SampleBatchRows"/> prompts at once (left-padded, KV cache, <see cref="Generation"/>);
    /// each chunk's libtorch generator is seeded with its first row's seed, so the same request gives the same
    /// responses but a row's response depends on its chunk. The stop token that ended a row is kept in its response.
    /// </remarks>
    public int[][] SampleBatch(
        IReadOnlyList<int[]> prompts,
        IReadOnlyList<ulong> seeds,
        double temperature,
        int maxNewTokens
    )
    {
        if (seeds.Count != prompts.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {seeds.Count} seeds");
        var responses = new int[prompts.Count][];
        for (int start = 0; start < prompts.Count; start += SampleBatchRows)
        {
            int n = Math.Min(SampleBatchRows, prompts.Count - start);
            var contexts = Enumerable.Range(start, n).Select(i => (IReadOnlyList<int>)ModelPrompt(prompts[i])).ToList();
            int budget = Math.Min(maxNewTokens, _maxResponse);
            if (_model.Config.Family == ModelFamily.Gpt2)
                budget = Math.Min(budget, _model.Config.MaxPositions - contexts.Max(c => c.Count));
            if (budget <= 0)
            {
                for (int i = 0; i < n; i++)
                    responses[start + i] = [];
                continue;
            }
            var options = new GenerationOptions
            {
                Temperature = temperature,
                MaxNewTokens = budget,
                StopTokenIds = _stopIds,
                Seed = seeds[start],
            };
            var generated = TorchGaps.Checked("sampling", () => Generation.Generate(_model, contexts, options, _padId));
            for (int i = 0; i < n; i++)
                responses[start + i] = generated[i].StopTokenId is { } stop
                    ? [.. generated[i].TokenIds, stop]
                    : [.. generated[i].TokenIds];
        }
        return responses;
    }

    /// <inheritdoc />
    public IPolicyModel Snapshot()
    {
        var copy = CloneOf(_model);
        return _spec is { } spec
            ? FromScratch(Kind, copy, spec)
            : new TorchPolicy(Kind, copy, _promptPrefix, _padId, _stopIds, _maxResponse, _weightDecay, _gradClip)
            {
                _emptyPromptContext = _emptyPromptContext,
            };
    }

    /// <inheritdoc />
    /// <remarks>
    /// Weights under their Hugging Face names (float32, HF order), then "optimizer.{name}.exp_avg" /
    /// "optimizer.{name}.exp_avg_sq" per parameter and "optimizer.step"; the config is the model's config.json.
    /// </remarks>
    public PolicyState Save()
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new List<NamedTensor>();
        var weights = _model.state_dict();
        foreach (var (name, _) in WeightLayout.Expected(_model.Config))
            tensors.Add(ToNamed(name, weights[name]));
        for (int i = 0; i < _parameters.Length; i++)
        {
            tensors.Add(ToNamed($"optimizer.{_parameters[i].Name}.exp_avg", _optimizer.ExpAvg[i]));
            tensors.Add(ToNamed($"optimizer.{_parameters[i].Name}.exp_avg_sq", _optimizer.ExpAvgSq[i]));
        }
        tensors.Add(new NamedTensor("optimizer.step", [1], [_optimizer.StepCount]));
        return new PolicyState(_model.Config.ToJson(), tensors);
    }

    private static NamedTensor ToNamed(string name, Tensor t) =>
        new(name, t.shape, t.to_type(ScalarType.Float32).cpu().data<float>().ToArray());

    /// <inheritdoc />
    /// <remarks>Every weight must be present with its shape; optimizer tensors are optional (absent: fresh
    /// moments).</remarks>
    public void Load(PolicyState state)
    {
        using var scope = torch.NewDisposeScope();
        var byName = new Dictionary<string, NamedTensor>();
        foreach (var t in state.Tensors)
            if (!byName.TryAdd(t.Name, t))
                throw new InvalidDataException($"{Kind} policy checkpoint: tensor '{t.Name}' appears twice");
        var device = _model.Device; // checkpoints hold CPU values; weights and moments live with the model
        Tensor ToTensor(NamedTensor t) =>
            t.Values.LongLength == t.Shape.Aggregate(1L, (a, b) => a * b)
                ? torch.tensor(t.Values, t.Shape, device: device)
                : throw new InvalidDataException(
                    $"{Kind} policy checkpoint: tensor '{t.Name}' has {t.Values.Length} values for shape [{string.Join(", ", t.Shape)}]"
                );

        var weights = byName
            .Values.Where(t => !t.Name.StartsWith("optimizer.", StringComparison.Ordinal))
            .ToDictionary(t => t.Name, ToTensor);
        try
        {
            TorchGaps.LoadStateDict(_model, weights);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{Kind} policy checkpoint does not fit the model: {e.Message}", e);
        }

        if (byName.TryGetValue("optimizer.step", out var step))
        {
            var loaded = new List<(Tensor ExpAvg, Tensor ExpAvgSq)>();
            for (int i = 0; i < _parameters.Length; i++)
            {
                Tensor Moment(string buffer)
                {
                    string name = $"optimizer.{_parameters[i].Name}.{buffer}";
                    var t = byName.TryGetValue(name, out var found)
                        ? ToTensor(found)
                        : throw new InvalidDataException(
                            $"{Kind} policy checkpoint has optimizer.step but no '{name}'"
                        );
                    if (!t.shape.SequenceEqual(_parameters[i].Parameter.shape))
                        throw new InvalidDataException(
                            $"{Kind} policy checkpoint: '{name}' is {TorchGaps.Shape(t)}, its parameter {TorchGaps.Shape(_parameters[i].Parameter)}"
                        );
                    return t;
                }
                loaded.Add((Moment("exp_avg"), Moment("exp_avg_sq")));
            }
            using var noGrad = torch.no_grad();
            for (int i = 0; i < _parameters.Length; i++) // copied in place: the moments stay on the policy's device
            {
                _optimizer.ExpAvg[i].copy_(loaded[i].ExpAvg);
                _optimizer.ExpAvgSq[i].copy_(loaded[i].ExpAvgSq);
            }
            _optimizer.StepCount = (long)step.Values[0];
        }
        _optimizer.ZeroGrad();
        _hasGradient = false;
    }

    /// <summary>Frees the weights and optimizer moments (native memory).</summary>
    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }
}
