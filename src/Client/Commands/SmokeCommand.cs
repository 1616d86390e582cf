using System.CommandLine;
using System.Diagnostics;
using AlignCluster.Torch;
using AlignCluster.Torch.NN;
using AlignCluster.Torch.Optim;

namespace AlignCluster.Client.Commands;

/// <summary>
/// `aligncluster smoke`: trains a tiny MLP on CPU to fit y = sin(2x₁)·cos(x₂) and prints its loss falling, a quick
/// end-to-end check of the libtorch binding (native shim, autograd, AdamW, schedules, dispose scopes).
/// </summary>
internal static class SmokeCommand
{
    public static Command Create()
    {
        var steps = new Option<int>("--steps") { Description = "Training steps.", DefaultValueFactory = _ => 300 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var command = new Command("smoke", "Train a tiny MLP with the libtorch binding and print its loss.") { steps, seed };
        command.SetAction(result => Run(result.GetValue(steps), result.GetValue(seed)));
        return command;
    }

    private sealed class Mlp : Module<Tensor, Tensor>
    {
        private readonly Linear input, hidden, output;

        public Mlp(Generator generator)
        {
            input = new Linear(2, 64, generator: generator);
            hidden = new Linear(64, 64, generator: generator);
            output = new Linear(64, 1, generator: generator);
        }

        public override Tensor Forward(Tensor x) => // (N, 2) → (N, 1)
            output.Forward(hidden.Forward(input.Forward(x).Tanh()).Tanh());
    }

    private static int Run(int steps, ulong seed)
    {
        if (steps < 10) { Console.Error.WriteLine("smoke: --steps must be at least 10"); return 2; }
        Console.WriteLine($"smoke: libtorch {LibTorch.Version}, {LibTorch.NumThreads} threads, device {Device.Cpu}, cuda devices: {LibTorch.CudaDeviceCount}");
        LibTorch.ManualSeed(seed);
        using var generator = new Generator(seed);
        using var model = new Mlp(generator);
        using var optimizer = new AdamW(model.Parameters(), learningRate: 1e-2, weightDecay: 0);
        var schedule = LrSchedule.WarmupCosine(peak: 1e-2, warmupSteps: steps / 10, totalSteps: steps, minLearningRate: 1e-4);

        using var data = DisposeScope.Begin();
        var x = Tensor.Rand([512, 2], generator: generator) * 6 - 3;                      // (N, 2) in [−3, 3)
        var y = ((x.Select(1, 0) * 2).Sin() * x.Select(1, 1).Cos()).Unsqueeze(1);        // (N, 1)

        double first = double.NaN, last = double.NaN;
        var clock = Stopwatch.StartNew();
        for (var step = 0; step < steps; step++)
        {
            using var scope = DisposeScope.Begin();
            schedule.Apply(optimizer, step);
            var loss = Functional.MseLoss(model.Forward(x), y);
            optimizer.ZeroGrad();
            loss.Backward();
            var gradNorm = GradientClipping.ClipGradNorm(model.Parameters(), 1.0);
            optimizer.Step();
            last = loss.ToDouble();
            if (step == 0) first = last;
            if (step % Math.Max(1, steps / 10) == 0 || step == steps - 1)
                Console.WriteLine($"step {step,5}  loss {last:F5}  grad_norm {gradNorm:F3}  lr {optimizer.LearningRate:0.00e+00}");
        }
        Console.WriteLine($"smoke: loss {first:F4} → {last:F4} in {steps} steps ({clock.Elapsed.TotalMilliseconds / steps:F2} ms/step)");
        if (!(last < first * 0.5))
        {
            Console.Error.WriteLine("smoke: FAILED — the loss did not fall below half its initial value");
            return 1;
        }
        Console.WriteLine("smoke: ok");
        return 0;
    }
}
