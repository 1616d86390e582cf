using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Models.Tests;

public sealed class TrainingTests
{
    /// <summary>
    /// Toy language over 16 tokens: each sequence counts upward mod 16 from a random start, so every token after the
    /// first is determined by its predecessor. An untrained model's loss is about ln 16 ≈ 2.77; the stated target is
    /// a mean next-token loss below 0.05 over the last 10 of 150 AdamW steps.
    /// </summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void TinyModelLearnsACountingLanguage(string family)
    {
        const int vocab = 16,
            batch = 16,
            length = 12,
            steps = 150;
        var config = family == "gpt2" ? TinyModels.Gpt2(vocab: vocab) : TinyModels.Llama(vocab: vocab);
        using var generator = new Generator(5);
        using var model = CausalLM.Create(config, generator: generator);
        model.train();
        using var optimizer = torch.optim.AdamW(model.parameters(), lr: 3e-3, weight_decay: 0.0);
        var rng = new Random(9);
        var losses = new List<double>();
        double first = 0;
        for (int step = 0; step < steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            var ids = new long[batch * length];
            for (int b = 0; b < batch; b++)
            {
                int start = rng.Next(vocab);
                for (int t = 0; t < length; t++)
                    ids[b * length + t] = (start + t) % vocab;
            }
            var loss = model.NextTokenLoss(torch.tensor(ids, [batch, length]));
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            double value = loss.ToDouble();
            if (step == 0)
                first = value;
            losses.Add(value);
        }
        Assert.InRange(first, 2.0, 4.0); // ≈ ln 16 at initialization
        double final = losses.TakeLast(10).Average();
        Assert.True(final < 0.05, $"final loss {final:F4} (first {first:F3})");
    }

    [Fact]
    public void NextTokenLossMatchesMeanNegativeLogProbOfTheSequence()
    {
        // The same quantity through the scoring path: prompt = first token, response = the rest.
        using var model = TinyModels.Create("llama", seed: 31);
        int[] seq = [3, 1, 4, 1, 5, 9, 2, 6];
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        double loss = model
            .Network.NextTokenLoss(torch.tensor(seq.Select(x => (long)x).ToArray(), 1, seq.Length))
            .ToDouble();
        var score = SequenceScoring.Score(model.Network, [new ScoringRow(seq[..1], seq[1..])])[0];
        Assert.Equal(-score.Mean, loss, 4);
    }
}
