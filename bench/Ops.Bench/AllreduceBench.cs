using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AlignCluster.Grains.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlignCluster.Ops.Bench;

/// <summary>
/// Allreduce (sum, float32, in place) of 1M and 16M floats across 2 ranks — each rank its own process, Gloo over
/// loopback — through our trainers' group (TrainerGroup: the Gloo shim, rendezvous through our store) and through
/// python3-torch's torch.distributed (libtorch 1.13's c10d), alternating the two; the same 1M floats as 256 gradients
/// (TrainerGroup.SumGradients packs them into one buffer; Python flattens them itself); and the latency of a barrier
/// (ours: a one-double sum).
/// </summary>
internal static class AllreduceBench
{
    private const int WorldSize = 2;
    private static readonly int[] Sizes = [1 << 20, 16 << 20];
    private static readonly int[] Iterations = [30, 8];
    private const int BarrierIterations = 50;

    // Gradient-like: 256 tensors of 4096 floats (1M in all), one coalesced call (Python: flatten, all_reduce, copy
    // back).
    private const int Pieces = 256,
        PieceSize = 4096;
    private const string CoalescedKey = "1M floats as 256 tensors";

    /// <summary>The parent: starts both ranks of each side `rounds` times and prints the comparison.</summary>
    public static int Run(int rounds, string python, string machine)
    {
        Console.WriteLine(machine);
        Console.WriteLine(
            $"2 ranks, one process each, Gloo over 127.0.0.1; {string.Join("/", Iterations)} timed calls per "
                + $"size (after 2 warm-up calls, a barrier before each) in each of {rounds} alternating rounds; "
                + "best and median of all"
        );
        Dictionary<string, List<double>>? cs = null,
            py = null;
        for (var round = 0; round < rounds; round++)
        {
            cs = Merge(cs, RunRanks(self: true, python));
            py = Merge(py, RunRanks(self: false, python));
        }
        Console.WriteLine();
        Console.WriteLine(
            $"{"allreduce (sum)", -26} {"C# best ms", 10} {"Py best ms", 10} {"C#/Py", 6} {"C# median", 10} "
                + $"{"Py median", 10} {"C#/Py", 6}"
        );
        foreach (var key in cs!.Keys)
        {
            double cb = cs[key].Min(),
                pb = py![key].Min(),
                cm = Median(cs[key]),
                pm = Median(py[key]);
            Console.WriteLine(
                $"{key, -26} {cb * 1e3, 10:F3} {pb * 1e3, 10:F3} {cb / pb, 6:F2} {cm * 1e3, 10:F3} "
                    + $"{pm * 1e3, 10:F3} {cm / pm, 6:F2}"
            );
        }
        foreach (var (n, i) in Sizes.Select((n, i) => (n, i)))
            Console.WriteLine(
                $"bus bandwidth {Label(n)}: C# {Bandwidth(n, cs[Key(n)].Min()):F2} GB/s, Python "
                    + $"{Bandwidth(n, py![Key(n)].Min()):F2} GB/s "
                    + "(2·(world−1)/world · bytes / best time)"
            );
        return 0;
    }

    /// <summary>One rank of our side (a child process): rank 0 prints the timings as JSON.</summary>
    public static int RunRank(int rank, int port)
    {
        TrainerGroup.CollectiveTimeout = TimeSpan.FromMinutes(2);
        using var group = TrainerGroup.Join("bench", rank, WorldSize, "127.0.0.1", port, servedStore: null, torch.CPU);
        var result = new Dictionary<string, List<double>>();
        foreach (var (n, repeats) in Sizes.Zip(Iterations))
        {
            using var t = torch.ones(n);
            var single = new Parameter(t) { grad = torch.ones(n) };
            result[Key(n)] = Timed(group, () => group.SumGradients([single]), repeats);
        }
        var pieces = Enumerable
            .Range(0, Pieces)
            .Select(_ => new Parameter(torch.ones(PieceSize)) { grad = torch.ones(PieceSize) })
            .ToArray();
        result[CoalescedKey] = Timed(group, () => group.SumGradients(pieces), 30);
        result["barrier"] = Timed(group, () => group.Sum(0.0), BarrierIterations);
        if (rank == 0)
            Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    private static List<double> Timed(TrainerGroup group, Action op, int repeats)
    {
        op();
        op();
        var times = new List<double>();
        for (var i = 0; i < repeats; i++)
        {
            group.Sum(0.0);
            var start = Stopwatch.GetTimestamp();
            op();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return times;
    }

    // Starts both ranks of one side and returns rank 0's timings.
    private static Dictionary<string, List<double>> RunRanks(bool self, string python)
    {
        // Our ranks meet through a store this parent serves (in a trainer, rank 0's grain serves it).
        using var store = self ? TrainerGroup.ServeRendezvous("127.0.0.1", WorldSize) : null;
        var port = store?.Port ?? FreePort();
        var processes = Enumerable
            .Range(0, WorldSize)
            .Select(rank =>
                Process.Start(self ? SelfRank(rank, port) : PythonRank(python, rank, port))
                ?? throw new InvalidOperationException("cannot start a rank")
            )
            .ToArray();
        var outputs = processes.Select(p => p.StandardOutput.ReadToEndAsync()).ToArray();
        var errors = processes.Select(p => p.StandardError.ReadToEndAsync()).ToArray();
        foreach (var p in processes)
            p.WaitForExit();
        for (var r = 0; r < WorldSize; r++)
            if (processes[r].ExitCode != 0)
                throw new InvalidOperationException(
                    $"{(self ? "C#" : "Python")} rank {r} failed ({processes[r].ExitCode}):\n{errors[r].Result}"
                );
        var json = JsonDocument.Parse(outputs[0].Result).RootElement;
        static List<double> Times(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToList();
        if (self)
            return json.EnumerateObject().ToDictionary(p => p.Name, p => Times(p.Value));
        var result = Sizes.ToDictionary(Key, n => Times(json.GetProperty("allreduce_s").GetProperty(n.ToString())));
        result[CoalescedKey] = Times(json.GetProperty("coalesced_s"));
        result["barrier"] = Times(json.GetProperty("barrier_s"));
        return result;
    }

    private static ProcessStartInfo SelfRank(int rank, int port)
    {
        var exe = Environment.ProcessPath!;
        var start = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
            start.ArgumentList.Add(typeof(AllreduceBench).Assembly.Location);
        foreach (var a in new[] { "--allreduce-rank", rank.ToString(), "--port", port.ToString() })
            start.ArgumentList.Add(a);
        return start;
    }

    private static ProcessStartInfo PythonRank(string python, int rank, int port)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "python_allreduce.py");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["GLOO_SOCKET_IFNAME"] = "lo"; // loopback, like our default hostname 127.0.0.1
        foreach (
            var a in new[]
            {
                script,
                rank.ToString(),
                WorldSize.ToString(),
                port.ToString(),
                string.Join(",", Sizes),
                string.Join(",", Iterations),
            }
        )
            start.ArgumentList.Add(a);
        return start;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Dictionary<string, List<double>> Merge(
        Dictionary<string, List<double>>? all,
        Dictionary<string, List<double>> next
    )
    {
        if (all is null)
            return next;
        foreach (var (k, v) in next)
            all[k].AddRange(v);
        return all;
    }

    private static string Key(int n) => Label(n);

    private static string Label(int n) => $"{n >> 20}M floats";

    private static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);

    private static double Bandwidth(int n, double seconds) => 2.0 * (WorldSize - 1) / WorldSize * n * 4 / seconds / 1e9;
}
