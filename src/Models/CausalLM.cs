using AlignCluster.Models.Nn;
using AlignCluster.Torch;
using AlignCluster.Torch.NN;

namespace AlignCluster.Models;

/// <summary>
/// A decoder-only language model whose state-dict names are exactly Hugging Face's (so checkpoints load and save
/// by name). Subclasses implement the trunk (<see cref="Hidden"/>) and the head (<see cref="Logits"/>).
/// </summary>
public abstract class CausalLM : Module
{
    protected CausalLM(ModelConfig config, DType dtype)
    {
        Config = config;
        DType = dtype;
    }

    /// <summary>The architecture.</summary>
    public ModelConfig Config { get; }

    /// <summary>Floating-point type of the weights.</summary>
    public DType DType { get; }

    /// <summary>Token ids (B, T) → final hidden states (B, T, C), after the last norm.</summary>
    public abstract Tensor Hidden(Tensor inputIds, ForwardContext ctx);

    /// <summary>Hidden states (…, C) → next-token logits (…, V).</summary>
    public abstract Tensor Logits(Tensor hidden);

    /// <summary>Fresh GPT-2/Llama initialization from <paramref name="generator"/> (loading skips this).</summary>
    public abstract void InitializeWeights(Generator generator);

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
        RunTrunk(Config, inputIds, attentionMask, cache, ctx => Hidden(inputIds, ctx));

    /// <summary>
    /// The shared front of every trunk forward (this LM's and <see cref="SequenceClassifier"/>'s): shape and position
    /// checks, the padding/cache-aware context, and one dispose scope around all intermediates.
    /// </summary>
    internal static Tensor RunTrunk(ModelConfig config, Tensor inputIds, Tensor? attentionMask, KvCache? cache, Func<ForwardContext, Tensor> hidden)
    {
        if (inputIds.Dim != 2) throw new ArgumentException($"input ids must be (batch, time), got [{string.Join(", ", inputIds.Shape)}]");
        long b = inputIds.Size(0), t = inputIds.Size(1);
        long past = cache?.Length ?? 0;
        if (config.Family == ModelFamily.Gpt2 && past + t > config.MaxPositions)
            throw new ArgumentException($"sequence of {past + t} tokens exceeds GPT-2's {config.MaxPositions} learned positions");
        using var scope = DisposeScope.Begin(); // every intermediate (and the context's tensors) ends here
        var ctx = ForwardContext.Create(b, t, attentionMask, cache, config.SlidingWindow);
        return scope.MoveOut(hidden(ctx));
    }

    /// <summary>
    /// Next-token cross-entropy, mean over predicted positions: −(1/N) Σ_{b,t} log softmax(logits[b,t])[ids[b,t+1]],
    /// skipping targets where <paramref name="attentionMask"/> (B, T) is 0. The pre-training / SFT loss.
    /// </summary>
    public Tensor NextTokenLoss(Tensor ids, Tensor? attentionMask = null)
    {
        using var scope = DisposeScope.Begin();
        long b = ids.Size(0), t = ids.Size(1);
        var logits = Forward(ids, attentionMask);                                   // (B, T, V)
        var predicted = logits.Narrow(1, 0, t - 1).Reshape(b * (t - 1), -1);        // (B·(T−1), V)
        var targets = ids.Narrow(1, 1, t - 1);                                      // (B, T−1)
        if (attentionMask is not null)
            targets = targets.MaskedFill(attentionMask.Narrow(1, 1, t - 1).Eq(0), -100);
        var loss = Functional.CrossEntropy(predicted.To(DType.Float32), targets.Reshape(b * (t - 1)), ignoreIndex: -100);
        return scope.MoveOut(loss);
    }

    /// <summary>A new, randomly initialized model of <paramref name="config"/>'s architecture.</summary>
    public static CausalLM Create(ModelConfig config, DType dtype = DType.Float32, Generator? generator = null)
    {
        var model = CreateUninitialized(config, dtype);
        using var g = generator is null ? new Generator(0) : null;
        model.InitializeWeights(generator ?? g!);
        return model;
    }

    /// <summary>A model with uninitialized weights, to be filled from a checkpoint.</summary>
    internal static CausalLM CreateUninitialized(ModelConfig config, DType dtype) => config.Family switch
    {
        ModelFamily.Gpt2 => new Gpt2Model(config, dtype),
        _ => new LlamaModel(config, dtype),
    };
}
