// Ops.Bench: per-op call overhead and float32 matmul GFLOP/s of TorchSharp (libtorch 2.10) side by side with the same
// operations in Debian's python3-torch (libtorch 1.13: an older libtorch, installed for this bench only), at 1 and 2
// threads, in one run.
//   dotnet run --project bench/Ops.Bench -c Release [-- --iterations 20000 --rounds 3]
//   dotnet run --project bench/Ops.Bench -c Release -- --allreduce [--rounds 3]   (our Gloo all-reduce, AllreduceBench)
// Each measurement alternates C# and Python `rounds` times and keeps the best (least disturbed) of each; per-op
// times are the best of 50 batches within a round.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AlignCluster.Ops.Bench;
using TorchSharp;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var iterations = ArgValue("--iterations", 20_000);
var rounds = ArgValue("--rounds", 3);
int[] threadCounts = [1, 2];
(int N, int Repeats)[] sizes = [(512, 20), (2048, 5)];
var python = "/usr/bin/python3";
var script = Path.Combine(AppContext.BaseDirectory, "python_ops.py");
var machine = $"machine: {CpuModel()}, {Environment.ProcessorCount} logical cores, load average {LoadAverage()}";
if (args.Contains("--allreduce-rank"))
    return AllreduceBench.RunRank(ArgValue("--allreduce-rank", 0), ArgValue("--port", 0));
if (args.Contains("--allreduce"))
    return AllreduceBench.Run(
        rounds,
        python,
        $"{machine}\nC#: .NET {Environment.Version}, libtorch {torch.__version__}; Python: {python}"
    );

Console.WriteLine(machine);
Console.WriteLine($"C#: .NET {Environment.Version}, libtorch {torch.__version__} via TorchSharp; Python: {python}");

var perOp = new Dictionary<int, (Dictionary<string, double> Cs, Dictionary<string, double> Py)>();
var matmul = new Dictionary<int, (Dictionary<int, double> Cs, Dictionary<int, double> Py)>();
string pythonVersion = "?";
foreach (var threads in threadCounts)
{
    Dictionary<string, double>? csOps = null,
        pyOps = null;
    Dictionary<int, double>? csMm = null,
        pyMm = null;
    for (var round = 0; round < rounds; round++)
    {
        torch.set_num_threads(threads);
        csOps = Best(csOps, CSharpOps.PerOpNanoseconds(iterations));
        csMm = Best(csMm, sizes.ToDictionary(s => s.N, s => CSharpOps.MatmulSeconds(s.N, s.Repeats)));
        var py = RunPython(threads);
        pythonVersion = $"Python {py.GetProperty("python").GetString()}, torch {py.GetProperty("torch").GetString()}";
        pyOps = Best(
            pyOps,
            py.GetProperty("per_op_ns").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble())
        );
        pyMm = Best(
            pyMm,
            py.GetProperty("matmul_s").EnumerateObject().ToDictionary(p => int.Parse(p.Name), p => p.Value.GetDouble())
        );
    }
    perOp[threads] = (csOps!, pyOps!);
    matmul[threads] = (csMm!, pyMm!);
}

Console.WriteLine(
    $"reference: {pythonVersion}; best of {rounds} alternating rounds; per op {iterations} calls in "
        + $"{CSharpOps.Batches} batches, best batch"
);
Console.WriteLine();
Console.WriteLine("per-op call overhead (8-element float32 tensors; C# includes Dispose of the result)");
Console.WriteLine($"{"threads", 7}  {"op", -12} {"C# ns/op", 10} {"Python ns/op", 13} {"C#/Python", 10}");
foreach (var (threads, (cs, py)) in perOp)
foreach (var name in cs.Keys)
    Console.WriteLine($"{threads, 7}  {name, -12} {cs[name], 10:F0} {py[name], 13:F0} {cs[name] / py[name], 10:F2}");
Console.WriteLine();
Console.WriteLine("float32 matmul n×n×n (GFLOP per CPU-second = 2n³ / best process CPU time)");
Console.WriteLine($"{"threads", 7}  {"n", -12} {"C# GFLOP/s", 10} {"Python GFLOP/s", 15} {"C#/Python", 10}");
foreach (var (threads, (cs, py)) in matmul)
foreach (var n in cs.Keys)
    Console.WriteLine(
        $"{threads, 7}  {n, -12} {Gflops(n, cs[n]), 10:F1} {Gflops(n, py[n]), 15:F1} "
            + $"{Gflops(n, cs[n]) / Gflops(n, py[n]), 10:F2}"
    );
Console.WriteLine($"load average at end: {LoadAverage()}");
return 0;

static double Gflops(int n, double seconds) => 2.0 * n * n * n / seconds / 1e9;

static Dictionary<TKey, double> Best<TKey>(Dictionary<TKey, double>? best, Dictionary<TKey, double> next)
    where TKey : notnull =>
    best is null ? next : next.ToDictionary(kv => kv.Key, kv => Math.Min(kv.Value, best[kv.Key]));

JsonElement RunPython(int threads)
{
    var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (
        var a in new[]
        {
            script,
            threads.ToString(),
            iterations.ToString(),
            string.Join(",", sizes.Select(s => $"{s.N}:{s.Repeats}")),
        }
    )
        start.ArgumentList.Add(a);
    using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {python}");
    var output = process.StandardOutput.ReadToEnd();
    var error = process.StandardError.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0)
        throw new InvalidOperationException(
            $"{python} {script} failed ({process.ExitCode}); is python3-torch installed (apt-get install "
                + $"python3-torch)?\n{error}"
        );
    return JsonDocument.Parse(output).RootElement.Clone();
}

int ArgValue(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
}

static string CpuModel() =>
    File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim()
            ?? "unknown CPU"
        : "unknown CPU";

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
