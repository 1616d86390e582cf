// Models.Bench: tokens/s of a GPT-2-small-shaped model (random weights, fixed sequence length) in our C# models on
// TorchSharp (libtorch 2.10, fused SDPA) vs the same model in Debian's python3-torch (libtorch 1.13: a different and
// older libtorch, composed attention; for the bench only), same thread count, in one run; then what prefix sharing
// saves when scoring K candidates of one prompt. --dtype bfloat16 times the C# side in bf16 too (1.13 on this CPU
// has no fast bf16 path, so Python stays float32 and the ratio then compares dtypes as well as engines).
//   dotnet run --project bench/Models.Bench -c Release [-- --threads 2 --batch 2 --seq 256 --layers 12 --iters 3]
// Times are process CPU seconds, the best of --iters runs after one warm-up; the ratio is C# time / Python time (≤ 1 is
// as fast or faster).
// dotnet run --project bench/Models.Bench -c Release -- --reward [--layers 12 --seq 128 --count 64 --batch 16 --iters
// 2]
// times reward-model scoring instead (RewardBench.cs).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AlignCluster.Models;
using TorchSharp;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
int threads = Arg("--threads", Environment.ProcessorCount),
    batch = Arg("--batch", 2),
    seq = Arg("--seq", 256);
int layers = Arg("--layers", 12),
    iters = Arg("--iters", 3);
const int warmup = 1;
torch.set_num_threads(threads);
var dtype = Environment.GetCommandLineArgs().Contains("bfloat16") ? ScalarType.BFloat16 : ScalarType.Float32;
if (Environment.GetCommandLineArgs().Contains("--reward"))
{
    Console.WriteLine(
        $"machine: {CpuModel()}, {Environment.ProcessorCount} logical cores, load average {LoadAverage()}; "
            + $"threads: {threads}"
    );
    RewardBench.Run(layers, Arg("--seq", 128), Arg("--count", 64), Arg("--batch", 16), Arg("--iters", 2));
    Console.WriteLine($"load average at end: {LoadAverage()}");
    return 0;
}

Console.WriteLine(
    $"machine: {CpuModel()}, {Environment.ProcessorCount} logical cores, load average {LoadAverage()}; threads: "
        + $"{threads} (C# and Python)"
);
Console.WriteLine(
    $"model: GPT-2 small shape (vocab 50257, 768 hidden, 12 heads, {layers} layers), C# {dtype} / Python float32, "
        + $"batch {batch} × {seq} tokens"
);
Console.WriteLine($"C#: TorchSharp, libtorch {torch.__version__}");

var config = ModelConfig.Parse(
    $$"""
    {"model_type":"gpt2","vocab_size":50257,"n_embd":768,"n_layer":{{layers}},"n_head":12,"n_positions":1024}
    """
);
using var generator = new Generator(0);
using var model = CausalLM.Create(config, dtype, generator);
using var ids = torch.randint(0, config.VocabSize, [batch, seq], generator: generator);

double csForward = Best(() =>
{
    using var noGrad = torch.no_grad();
    using var scope = torch.NewDisposeScope();
    model.Forward(ids);
});
double csTrain = Best(() =>
{
    using var scope = torch.NewDisposeScope();
    var loss = model.NextTokenLoss(ids);
    model.zero_grad();
    loss.backward();
});
model.zero_grad();

var py = RunPython(threads, batch, seq, layers, warmup, iters);
double pyForward = py.GetProperty("forward_s").GetDouble(),
    pyTrain = py.GetProperty("train_s").GetDouble();
double tokens = batch * seq;
Console.WriteLine(
    $"reference: /usr/bin/python3, torch {py.GetProperty("torch").GetString()}; best of {iters} after {warmup} warm-up"
);
Console.WriteLine();
Console.WriteLine(
    $"{"pass", -18} {"C# tok/s", 10} {"Python tok/s", 13} {"C# cpu s", 8} {"Py cpu s", 9} {"C#/Python time", 15}"
);
Row("forward (no grad)", csForward, pyForward);
Row("forward+backward", csTrain, pyTrain);

// Prefix sharing: K candidates of one prompt, scored as K full sequences vs the prompt once + K continuations.
int k = Arg("--candidates", 8),
    promptLength = Arg("--prompt", 192),
    responseLength = Arg("--response", 32);
var rng = new Random(1);
var prompt = Enumerable.Range(0, promptLength).Select(_ => rng.Next(config.VocabSize)).ToArray();
var responses = Enumerable
    .Range(0, k)
    .Select(_ =>
        (IReadOnlyList<int>)Enumerable.Range(0, responseLength).Select(_ => rng.Next(config.VocabSize)).ToArray()
    )
    .ToList();
var rows = responses.Select(r => new ScoringRow(prompt, r)).ToList();
double plain = Best(() => SequenceScoring.Score(model, rows, batchSize: k));
double shared = Best(() => SequenceScoring.ScoreCandidates(model, prompt, responses));
Console.WriteLine();
Console.WriteLine(
    $"scoring {k} candidates of {responseLength} tokens after one {promptLength}-token prompt (no grad):"
);
Console.WriteLine(
    $"  batched full sequences: {plain:F3} s; prompt once via KV cache: {shared:F3} s; saving "
        + $"{(1 - shared / plain) * 100:F0}% ({plain / shared:F2}× faster)"
);
Console.WriteLine($"load average at end: {LoadAverage()}");
return 0;

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

void Row(string name, double cs, double python) =>
    Console.WriteLine(
        $"{name, -18} {tokens / cs, 10:F0} {tokens / python, 13:F0} {cs, 8:F3} {python, 9:F3} {cs / python, 15:F2}"
    );

// Process CPU time, not wall time: on a shared machine the wall clock counts other processes' turns, while CPU time
// (with --threads 1) is this model's own work; Python measures time.process_time() the same way.
double Best(Action run)
{
    for (int i = 0; i < warmup; i++)
        run();
    double best = double.MaxValue;
    var self = Process.GetCurrentProcess();
    for (int i = 0; i < iters; i++)
    {
        self.Refresh();
        var before = self.TotalProcessorTime;
        run();
        self.Refresh();
        best = Math.Min(best, (self.TotalProcessorTime - before).TotalSeconds);
    }
    return best;
}

static JsonElement RunPython(int threads, int batch, int seq, int layers, int warmup, int iters)
{
    var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
    psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gpt2_bench.py"));
    foreach (var a in new[] { threads, batch, seq, layers, warmup, iters })
        psi.ArgumentList.Add(a.ToString());
    using var p = Process.Start(psi)!;
    string stdout = p.StandardOutput.ReadToEnd(),
        stderr = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0)
        throw new InvalidOperationException(
            $"python3 failed (is python3-torch installed? apt-get install -y python3-torch): {stderr}"
        );
    return JsonDocument.Parse(stdout).RootElement.Clone();
}

static string CpuModel() =>
    File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim()
            ?? "unknown CPU"
        : "unknown CPU";

static int Arg(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out int v) ? v : fallback;
}
