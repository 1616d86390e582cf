using AlignCluster.Torch.Distributed;
using AlignCluster.Torch.NN;
using AlignCluster.Torch.Optim;

namespace AlignCluster.Torch.Tests.Distributed;

/// <summary>
/// Data-parallel SGD on ranks that each see an equal share of the batch, against the independent reference: one
/// process training the same model on the whole batch with the mean loss (the mean of equal-sized share means is
/// the full mean, so the averaged gradient — and every step — must be the same).
/// </summary>
public class DataParallelTests
{
    private const int In = 5, Out = 3, Steps = 4;
    private const double LearningRate = 0.2;

    // The batch: x (B, In) and y (B, Out), from a fixed seed.
    private static (Tensor X, Tensor Y) Batch(int batchSize)
    {
        using var g = new Generator(7);
        return (Tensor.Randn([batchSize, In], generator: g), Tensor.Randn([batchSize, Out], generator: g));
    }

    private static Linear Model(ulong seed)
    {
        using var g = new Generator(seed);
        return new Linear(In, Out, generator: g);
    }

    // SGD steps on MSE(model(x), y) with the mean over the rows given; `afterBackward` sees the gradients.
    private static void Train(Linear model, Tensor x, Tensor y, Action afterBackward)
    {
        using var sgd = new Sgd(model.Parameters(), LearningRate);
        for (var step = 0; step < Steps; step++)
        {
            using var scope = DisposeScope.Begin();
            sgd.ZeroGrad();
            Functional.MseLoss(model.Forward(x), y).Backward(); // mean over (rows × Out)
            afterBackward();
            sgd.Step();
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Averaged_gradients_on_batch_shares_equal_full_batch_training(int worldSize)
    {
        var batchSize = 4 * worldSize;
        var (x, y) = Batch(batchSize);
        using var _x = x;
        using var _y = y;

        using var reference = Model(seed: 1);
        Train(reference, x, y, afterBackward: () => { });
        var expectedWeight = reference.Weight.ToArray<float>();
        var expectedBias = reference.Bias!.ToArray<float>();

        using var ranks = new Ranks();
        var replicas = Ranks.Run(worldSize, rank =>
        {
            using var group = ranks.Join(rank, worldSize);
            var dp = new DataParallel(group);
            using var model = Model(seed: 1 + (ulong)rank); // different starts: the broadcast must align them
            dp.BroadcastParameters(model.Parameters(), root: 0);
            using var xs = x.Narrow(0, 4 * rank, 4);
            using var ys = y.Narrow(0, 4 * rank, 4);
            Train(model, xs, ys, afterBackward: () => dp.AverageGradients(model.Parameters()));
            return (model.Weight.ToArray<float>(), model.Bias!.ToArray<float>());
        });

        foreach (var (weight, bias) in replicas)
        {
            Assert.Equal(expectedWeight, weight, (a, b) => Math.Abs(a - b) <= 1e-6f);
            Assert.Equal(expectedBias, bias, (a, b) => Math.Abs(a - b) <= 1e-6f);
        }
        using var untrained = Model(seed: 1);
        Assert.NotEqual(untrained.Weight.ToArray<float>(), expectedWeight); // training moved the weights
    }

    [Fact]
    public void A_parameter_without_gradient_on_one_rank_counts_as_zero()
    {
        // Rank 0 gives the parameter gradient [2, 4]; rank 1 never used it (no gradient). Mean: [1, 2] on both.
        using var ranks = new Ranks();
        var grads = Ranks.Run(2, rank =>
        {
            using var group = ranks.Join(rank, 2);
            using var p = new Parameter(Tensor.Zeros([2]));
            if (rank == 0) p.Grad = Tensor.From<float>([2f, 4f], 2);
            new DataParallel(group).AverageGradients([p]);
            using var g = p.Grad!;
            return g.ToArray<float>();
        });
        Assert.All(grads, g => Assert.Equal([1f, 2f], g));
    }
}
