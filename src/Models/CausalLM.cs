using AlignCluster.Models.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models;

/// <summary>
/// A decoder-only language model whose state-dict names are exactly Hugging Face's (so checkpoints load and save
/// by name). Subclasses implement the trunk (<see cref="Hidden"/>) and the head (<see cref="Logits"/>). Built on its
/// device and dtype (never moved afterwards: TorchSharp's <c>to()</c> replaces Parameter objects).
/// </summary>
public abstract class CausalLM : nn.Module<Tensor, Tensor>
{
    protected CausalLM(ModelConfig config, ScalarType dtype, Device device)
        : base(config.ModelType)
    {
        Config = config;
        DType = dtype;
        Device = device;
    }

    /// <summary>The architecture.</summary>
    public ModelConfig Config { get; }

    /// <summary>Floating-point type of the weights.</summary>
    public ScalarType DType { get; }

    /// <summary>Where the weights live.</summary>
    public Device Device { get; }

    /// <summary>Token ids (B, T) → final hidden states (B, T, C), after the last norm.</summary>
    public abstract Tensor Hidden(Tensor inputIds, ForwardContext ctx);

    /// <summary>Hidden states (…, C) → next-token logits (…, V).</summary>
    public abstract Tensor Logits(Tensor hidden);

    /// <summary>Fresh GPT-2/Llama initialization from <paramref name="generator"/> (loading skips this).</summary>
    public abstract void InitializeWeights(Generator generator);

    /// <summary>Logits (B, T, V) of plain causal ids (B, T).</summary>
    public override Tensor forward(Tensor inputIds) => Forward(inputIds);

    /// <summary>
    /// Logits (B, T, V) for <paramref name="inputIds"/> (B, T). <paramref name="attentionMask"/> (B, S) marks real
    /// tokens (1) and padding (0) over cached + new positions; with <paramref name="cache"/> the new tokens attend to
    /// the cached ones and their keys/values are appended.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null)
    {
        using var hidden = ForwardHidden(inputIds, attentionMask, cache);
        return Logits(hidden);
    }

    /// <summary>As <see cref="Forward"/> but stops before the LM head: (B, T, C).</summary>
    public Tensor ForwardHidden(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null) =>
        RunTrunk(Config, Device, inputIds, attentionMask, cache, ctx => Hidden(inputIds, ctx));

    /// <summary>
    /// The shared front of every trunk forward (this LM's and <see cref="SequenceClassifier"/>'s): shape and position
    /// checks, the padding/cache-aware context, and one dispose scope around all intermediates.
    /// </summary>
    internal static Tensor RunTrunk(
        ModelConfig config,
        Device device,
        Tensor inputIds,
        Tensor? attentionMask,
        KvCache? cache,
        Func<ForwardContext, Tensor> hidden
    )
    {
        if (inputIds.ndim != 2)
            throw new ArgumentException($"input ids must be (batch, time), got {TorchGaps.Shape(inputIds)}");
        long b = inputIds.shape[0],
            t = inputIds.shape[1];
        long past = cache?.Length ?? 0;
        if (config.Family == ModelFamily.Gpt2 && past + t > config.MaxPositions)
            throw new ArgumentException(
                $"sequence of {past + t} tokens exceeds GPT-2's {config.MaxPositions} learned positions"
            );
        using var scope = torch.NewDisposeScope(); // every intermediate (and the context's tensors) ends here
        var ctx = ForwardContext.Create(b, t, attentionMask, cache, config.SlidingWindow, device);
        return hidden(ctx).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Next-token cross-entropy, mean over predicted positions: −(1/N) Σ_{b,t} log softmax(logits[b,t])[ids[b,t+1]],
    /// skipping targets where <paramref name="attentionMask"/> (B, T) is 0. The pre-training / SFT loss.
    /// </summary>
    public Tensor NextTokenLoss(Tensor ids, Tensor? attentionMask = null)
    {
        using var scope = torch.NewDisposeScope();
        long b = ids.shape[0],
            t = ids.shape[1];
        var logits = Forward(ids, attentionMask); // (B, T, V)
        var predicted = logits.narrow(1, 0, t - 1).reshape(b * (t - 1), -1); // (B·(T−1), V)
        var targets = ids.narrow(1, 1, t - 1); // (B, T−1)
        if (attentionMask is not null)
            targets = targets.masked_fill(attentionMask.narrow(1, 1, t - 1).eq(0), -100);
        var loss = torch.nn.functional.cross_entropy(
            predicted.to_type(ScalarType.Float32),
            targets.reshape(b * (t - 1)),
            ignore_index: -100
        );
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>A new, randomly initialized model of <paramref name="config"/>'s architecture.</summary>
    /// <remarks>Initialized on the CPU with a CPU generator, then copied to <paramref name="device"/>: the same seed
    /// gives
    /// the same weights on any device.</remarks>
    public static CausalLM Create(
        ModelConfig config,
        ScalarType dtype = ScalarType.Float32,
        Generator? generator = null,
        Device? device = null
    )
    {
        var cpu = CreateUninitialized(config, dtype, torch.CPU);
        using (var g = generator is null ? new Generator(0) : null)
            cpu.InitializeWeights(generator ?? g!);
        if (device is null || device.type == DeviceType.CPU)
            return cpu;
        using (cpu)
        {
            var model = CreateUninitialized(config, dtype, device);
            CopyWeights(cpu, model);
            return model;
        }
    }

    /// <summary>Copies every parameter and buffer of <paramref name="source"/> into the same-named one of <paramref
    /// name="target"/>
    /// (across devices and dtypes); names and shapes must match.</summary>
    public static void CopyWeights(nn.Module source, nn.Module target) =>
        TorchGaps.LoadStateDict(target, source.state_dict());

    /// <summary>A new model of the same architecture, dtype and device holding a copy of this one's weights.</summary>
    public CausalLM Clone()
    {
        var copy = CreateUninitialized(Config, DType, Device);
        CopyWeights(this, copy);
        return copy;
    }

    /// <summary>A model with uninitialized weights, to be filled from a checkpoint.</summary>
    internal static CausalLM CreateUninitialized(ModelConfig config, ScalarType dtype, Device device) =>
        config.Family switch
        {
            ModelFamily.Gpt2 => new Gpt2Model(config, dtype, device),
            _ => new LlamaModel(config, dtype, device),
        };
}
