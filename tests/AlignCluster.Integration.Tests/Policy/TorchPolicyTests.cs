using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Demo;
using AlignCluster.Grains.Policy;
using AlignCluster.Integration.Tests.Cluster;
using AlignCluster.Models;
using AlignCluster.Models.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Integration.Tests.Policy;

/// <summary>
/// The transformer policy (kinds gpt2 / llama over the toy vocabulary): log-probs against a plain C# log-softmax over
/// the network's own logits, gradients against finite differences, exact checkpoint round trips, seeded sampling,
/// and a short run through the cluster.
/// </summary>
public class TorchPolicyTests
{
    private static PolicySpec Spec(string kind, ulong seed = 5) =>
        new(kind, null, MaxPromptLength: 6, MaxResponseLength: 7, seed, WeightDecay: 0.01);

    private static TorchPolicy Create(string kind, ulong seed = 5) =>
        (TorchPolicy)PolicyFactory.Create(Spec(kind, seed));

    /// <summary>Prompts and responses of different lengths (so the batch is padded), responses ending in EOS or
    /// not.</summary>
    private static readonly Sequence[] Sequences =
    [
        new(ToyVocabulary.Encode("123"), ToyVocabulary.EncodeResponse("321")),
        new(ToyVocabulary.Encode("90817"), ToyVocabulary.EncodeResponse("71809")),
        new(ToyVocabulary.Encode("44"), ToyVocabulary.Encode("4")), // no end token
        new(ToyVocabulary.Encode("605521"), ToyVocabulary.EncodeResponse("1255")),
    ];

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void LogProbsEqualAPlainLogSoftmaxOverTheNetworksLogits(string kind)
    {
        using var policy = Create(kind);
        var batched = policy.LogProbs(Sequences);
        for (int i = 0; i < Sequences.Length; i++)
        {
            // Independent: one unpadded forward per sequence, log-softmax in double in a loop, response positions only.
            var (prompt, response) = Sequences[i];
            int[] ids = [ToyVocabulary.Bos, .. prompt, .. response];
            float[] logits;
            long vocab;
            using (torch.no_grad())
            using (var scope = torch.NewDisposeScope())
            {
                var output = policy.Network.Forward(torch.tensor(ids.Select(x => (long)x).ToArray(), 1, ids.Length)); // (1, T, V)
                vocab = output.shape[^1];
                logits = output.data<float>().ToArray();
            }
            double expected = 0;
            for (int j = 0; j < response.Length; j++)
            {
                int position = prompt.Length + j; // BOS + prompt + response[..j] predicts response[j] from here
                var row = logits.AsSpan((int)(position * vocab), (int)vocab);
                double max = double.NegativeInfinity,
                    sum = 0;
                foreach (float x in row)
                    max = Math.Max(max, x);
                foreach (float x in row)
                    sum += Math.Exp(x - max);
                expected += row[response[j]] - max - Math.Log(sum);
            }
            Assert.True(
                Math.Abs(batched[i] - expected) < 1e-4,
                $"{kind} sequence {i}: batched {batched[i]} vs loop {expected}"
            );
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void AccumulatedGradientMatchesFiniteDifferencesOfTheWeightedLogProbs(string kind)
    {
        using var policy = Create(kind);
        double[] weights = [0.7, -1.3, 0.4, 2.0];
        double F(TorchPolicy p) => p.LogProbs(Sequences).Zip(weights, (l, w) => l * w).Sum();

        policy.AccumulateGradient(Sequences, weights);
        var gradient = new Dictionary<string, float[]>();
        using (var scope = torch.NewDisposeScope())
            foreach (var (name, parameter) in policy.Network.named_parameters())
                gradient[name] = parameter.grad!.data<float>().ToArray();

        // A random unit direction over every weight; analytic directional derivative = Σ grad · d.
        var state = policy.Save();
        var random = new SeededRandom(11);
        var weightTensors = state.Tensors.Where(t => !t.Name.StartsWith("optimizer.")).ToList();
        var direction = weightTensors.ToDictionary(
            t => t.Name,
            t => t.Values.Select(_ => random.NextGaussian()).ToArray()
        );
        double norm = Math.Sqrt(direction.Values.Sum(d => d.Sum(x => x * x)));
        double analytic = weightTensors.Sum(t => gradient[t.Name].Zip(direction[t.Name], (g, d) => g * d / norm).Sum());

        // Central difference of F along d (float32 model, so ε is large-ish and the tolerance is a few percent).
        const double eps = 1e-2;
        PolicyState Shifted(double h) =>
            new(
                state.ConfigJson,
                weightTensors
                    .Select(t =>
                        t with
                        {
                            Values = t.Values.Select((x, k) => (float)(x + h * direction[t.Name][k] / norm)).ToArray(),
                        }
                    )
                    .ToList()
            );
        using var probe = Create(kind);
        probe.Load(Shifted(eps));
        double plus = F(probe);
        probe.Load(Shifted(-eps));
        double minus = F(probe);
        double numeric = (plus - minus) / (2 * eps);
        Assert.True(
            Math.Abs(numeric - analytic) <= 0.03 * Math.Abs(numeric) + 1e-3,
            $"{kind}: directional derivative analytic {analytic} vs finite differences {numeric}"
        );
        Assert.True(Math.Abs(analytic) > 1e-2, "the check is vacuous: the directional derivative is ~0");
    }

    [Fact]
    public void SaveLoadRoundTripReproducesLogProbsAndTheNextOptimizerStepExactly()
    {
        using var trained = Create("gpt2");
        var reference = (TorchPolicy)trained.Snapshot();
        var before = reference.LogProbs(Sequences);
        double[] weights = [-0.25, -0.25, -0.25, -0.25];
        trained.AccumulateGradient(Sequences, weights);
        double norm = trained.OptimizerStep(1e-2);
        Assert.True(norm > 0 && double.IsFinite(norm));
        Assert.Equal(before, reference.LogProbs(Sequences)); // the snapshot is a deep copy: training did not move it
        Assert.NotEqual(before, trained.LogProbs(Sequences));

        var state = trained.Save();
        Assert.Contains(state.Tensors, t => t.Name == "transformer.wte.weight");
        Assert.Contains(state.Tensors, t => t.Name == "optimizer.step" && t.Values[0] == 1);
        using var restored = Create("gpt2", seed: 99); // different initial weights, overwritten by Load
        restored.Load(state);
        Assert.Equal(trained.LogProbs(Sequences), restored.LogProbs(Sequences)); // bit-exact

        // AdamW moments and step came back too: one more identical step lands on identical weights.
        foreach (var p in new[] { trained, restored })
        {
            p.AccumulateGradient(Sequences, weights);
            p.OptimizerStep(1e-2);
        }
        Assert.Equal(trained.LogProbs(Sequences), restored.LogProbs(Sequences));

        // A checkpoint of another architecture is refused with the cause.
        using var llama = Create("llama");
        var error = Assert.Throws<InvalidDataException>(() => llama.Load(state));
        Assert.Contains("does not fit", error.Message);
    }

    [Fact]
    public void SamplingIsDeterministicForASeedAndReportsTheResponsesLogProb()
    {
        using var policy = Create("llama");
        var prompts = new[] { "123", "98765", "4040" }.Select(ToyVocabulary.Encode).ToArray();
        var first = prompts.Select(p => policy.Sample(p, 1.5, 7, new SeededRandom(3))).ToArray();
        var again = prompts.Select(p => policy.Sample(p, 1.5, 7, new SeededRandom(3))).ToArray();
        var other = prompts.Select(p => policy.Sample(p, 1.5, 7, new SeededRandom(4))).ToArray();
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(first[i].Response, again[i].Response);
            Assert.Equal(first[i].LogProb, again[i].LogProb);
            var response = first[i].Response;
            Assert.True(response.Length is > 0 and <= 7);
            Assert.True(
                response[^1] == ToyVocabulary.Eos || response.Length == 7,
                "stops at the end token (included) or the length cap"
            );
            Assert.DoesNotContain(ToyVocabulary.Eos, response[..^1]);
            Assert.Equal(policy.LogProbs([new Sequence(prompts[i], response)])[0], first[i].LogProb);
        }
        Assert.False(
            first.Zip(other).All(p => p.First.Response.SequenceEqual(p.Second.Response)),
            "another seed gave the same samples"
        );
    }

    [Fact]
    public void A_trainer_leased_a_GPU_puts_the_policy_there_and_a_CPU_device_keeps_it_on_the_CPU()
    {
        var leased = PolicyFactory.DeviceOf("cuda:1");
        Assert.Equal((DeviceType.CUDA, 1), (leased.type, leased.index));
        Assert.Equal(DeviceType.CPU, PolicyFactory.DeviceOf("cpu:3").type);
        Assert.Equal(DeviceType.CPU, PolicyFactory.DeviceOf(null).type);
        using var onCpu = (TorchPolicy)PolicyFactory.Create(Spec("gpt2"), torch.CPU);
        Assert.All(onCpu.Network.parameters(), p => Assert.Equal(DeviceType.CPU, p.device_type));
        if (!torch.cuda.is_available())
        {
            // A CPU-only libtorch cannot honour a GPU lease: the trainer must fail loudly, not train on the CPU
            // unnoticed.
            Assert.ThrowsAny<Exception>(() => PolicyFactory.Create(Spec("gpt2"), PolicyFactory.DeviceOf("cuda:0")));
            return;
        }
        // With a GPU: same initial weights (initialized on the CPU, then copied), so the same log-probs up to float
        // rounding.
        using var onGpu = (TorchPolicy)PolicyFactory.Create(Spec("gpt2"), PolicyFactory.DeviceOf("cuda:0"));
        Assert.All(onGpu.Network.parameters(), p => Assert.Equal(DeviceType.CUDA, p.device_type));
        foreach (var (c, g) in onCpu.LogProbs(Sequences).Zip(onGpu.LogProbs(Sequences)))
            Assert.Equal(c, g, 1e-3);
        using var reference = (TorchPolicy)onGpu.Snapshot();
        Assert.All(reference.Network.parameters(), p => Assert.Equal(DeviceType.CUDA, p.device_type));
        // A checkpoint restored into the GPU policy keeps weights there (loads go to the model's device).
        onGpu.Load(onCpu.Save());
        Assert.All(onGpu.Network.parameters(), p => Assert.Equal(DeviceType.CUDA, p.device_type));
    }

    [Fact]
    public void HfKindLoadsAModelDirectoryScoresLikeTheModelsApiAndSamplesUntilItsEndToken()
    {
        // A tiny GPT-2 with a byte-level tokenizer, saved in HF layout by the models API, is the "hf" policy's input.
        string dir = Path.Combine(TestConfigs.TempDirectory(), "model");
        var config = TorchPolicy.TinyConfig("gpt2", 16, 16) with
        {
            VocabSize = 258,
            BosTokenId = null,
            EosTokenIds = [256],
            PadTokenId = 257,
        };
        using (
            var model = LanguageModel.Create(
                config,
                TokenizerJson.BytesOnly("<|endoftext|>", "<|pad|>"),
                seed: 3,
                eosToken: "<|endoftext|>"
            )
        )
            model.Save(dir);
        using var policy = (TorchPolicy)PolicyFactory.Create(new PolicySpec("hf", dir, 16, 12, 1));
        using var loaded = LanguageModel.Load(dir);
        Assert.Equal("hf", policy.Kind);

        // Prompts are used as given (no BOS added); the reference scores come from SequenceScoring on the loaded model.
        var sequences = new[] { new Sequence([72, 105, 33], [111, 107, 256]), new Sequence([65], [66, 67, 68, 69]) };
        var expected = SequenceScoring.Score(
            loaded.Network,
            sequences.Select(q => new ScoringRow(q.Prompt, q.Response)).ToList(),
            loaded.PadId
        );
        Assert.Equal(expected.Select(e => e.Sum), policy.LogProbs(sequences));

        var (response, logp) = policy.Sample([72, 105], 1.0, 12, new SeededRandom(1));
        Assert.True(response.Length is > 0 and <= 12);
        Assert.True(response[^1] == 256 || response.Length == 12);
        Assert.Equal(policy.LogProbs([new Sequence([72, 105], response)])[0], logp);
        Assert.Contains("\"GPT2LMHeadModel\"", policy.Save().ConfigJson); // the checkpoint's config is HF's config.json
    }

    [Fact]
    public async Task ShortTrainingRunWithTheGpt2PolicyCompletesWithFiniteMetrics()
    {
        var config = TestConfigs.Tiny("torch-gpt2", rounds: 1) with
        {
            Policy = new PolicyConfig { Kind = "gpt2" },
            Data = new DataConfig { TrainPrompts = 32, EvalPrompts = 8 },
            Sft = new SftConfig { Epochs = 1, LearningRate = 3e-3 },
            Training = new TrainingConfig
            {
                Rounds = 1,
                BatchSize = 16,
                LearningRate = 1e-3,
            },
        };
        await using var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory());
        var status = await ClusterHarness.RunToEndAsync(cluster, config, TimeSpan.FromMinutes(5));
        Assert.All(status.Sft!.EpochLosses, l => Assert.True(double.IsFinite(l) && l > 0, $"SFT loss {l}"));
        var round = Assert.Single(status.History);
        Assert.NotEmpty(round.Steps);
        Assert.All(round.Steps, s =>
            Assert.True(
                double.IsFinite(s.Loss) && double.IsFinite(s.GradNorm) && s.GradNorm > 0,
                $"step {s.Step}: loss {s.Loss}, grad norm {s.GradNorm}"
            )
        );
        Assert.True(
            round.Eval is { } e && e.OracleReward is >= 0 and <= 1 && double.IsFinite(e.KlToReference),
            $"eval {round.Eval}"
        );
    }
}
