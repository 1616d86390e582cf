using System.Diagnostics;
using AlignCluster.Runtime;
using AlignCluster.Runtime.Storage;
using AlignCluster.Runtime.Testing;

public interface ILocalBenchGrain : IGrainWithStringKey
{
    Task<int> Add(int value);
}

public sealed class LocalBenchGrain : Grain, ILocalBenchGrain
{
    private int _total;
    public Task<int> Add(int value) => Task.FromResult(_total += value);
}

/// <summary>
/// Local call rate: a client and one silo in this process (in-process transport; arguments and results still
/// serialized, spans and metrics instrumented but unobserved). Sequential calls (one in flight) with p50/p99, and
/// many callers at once (each on its own grain, and all on one grain). A plain interface call on an object, with
/// the same Task plumbing but no runtime, is printed beside them as the floor.
/// </summary>
internal static class LocalCallsBench
{
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(1), Measure = TimeSpan.FromSeconds(3);

    public static async Task RunAsync()
    {
        Console.WriteLine($"local-call bench on {LocalHardware()}");
        var options = new RuntimeOptions().AddGrain<LocalBenchGrain>().AddStateStore("Default", new MemoryStateStore());
        await using var cluster = await InProcessCluster.StartAsync(options, 1);
        var client = cluster.Client;

        ILocalBenchGrain plain = new PlainAdder();
        var baseline = await RateAsync(1, _ => plain);
        var sequential = await RateAsync(1, _ => client.GetGrain<ILocalBenchGrain>("seq"));
        var latencies = await LatenciesAsync(client.GetGrain<ILocalBenchGrain>("lat"), 50_000);
        int parallel = 64;
        using var sampler = AllocationSampler.StartIfRequested();
        var spread = await RateAsync(parallel, i => client.GetGrain<ILocalBenchGrain>($"spread-{i}"));
        sampler?.Report();
        var oneGrain = await RateAsync(parallel, _ => client.GetGrain<ILocalBenchGrain>("hot"));
        var inSilo = await RateAsync(parallel, i => cluster.Silos[0].GrainFactory.GetGrain<ILocalBenchGrain>($"silo-{i}"));

        // The machine may be shared (load average below): CPU time per call is the steadier number; cores/cpu-per-call
        // is the rate the process could reach with every core to itself.
        Console.WriteLine($"load average: {LoadAverage()}");
        Console.WriteLine($"{"case",-46} {"calls/s",10} {"vs plain",9} {"cpu µs/call",12} {"B/call",8} {"calls/s if cores idle",22}");
        void Row(string name, Rate r) => Console.WriteLine(
            $"{name,-46} {r.CallsPerSecond,10:N0} {r.CallsPerSecond / baseline.CallsPerSecond,9:P1} {r.CpuMicrosPerCall,12:F2} {r.BytesPerCall,8:N0} {Environment.ProcessorCount * 1e6 / r.CpuMicrosPerCall,22:N0}");
        Row("plain interface call (no runtime), 1 caller", baseline);
        Row("client -> grain, 1 in flight", sequential);
        Row($"client -> {parallel} grains, {parallel} in flight", spread);
        Row($"client -> 1 grain, {parallel} in flight (turns)", oneGrain);
        Row($"silo factory -> {parallel} grains, {parallel} in flight", inSilo);
        Console.WriteLine($"latency, 1 in flight: p50 {latencies.P50:F1} µs, p99 {latencies.P99:F1} µs ({latencies.Count:N0} calls)");
        var best = new[] { spread, inSilo }.MaxBy(r => r.CallsPerSecond);
        Console.WriteLine($"target >= 300,000 local calls/s: measured best {best.CallsPerSecond:N0} calls/s; CPU-bound projection {Environment.ProcessorCount * 1e6 / best.CpuMicrosPerCall:N0} calls/s");
    }

    private readonly record struct Rate(double CallsPerSecond, double CpuMicrosPerCall, double BytesPerCall);

    private static async Task<Rate> RateAsync(int callers, Func<int, ILocalBenchGrain> grainFor)
    {
        Console.Error.WriteLine($"  measuring {callers} caller(s)...");
        long calls = 0;
        bool measuring = false, stop = false;
        var workers = Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
        {
            var grain = grainFor(i);
            while (!Volatile.Read(ref stop))
            {
                await grain.Add(1);
                if (Volatile.Read(ref measuring)) Interlocked.Increment(ref calls);
            }
        })).ToArray();
        await Task.Delay(Warmup);
        Volatile.Write(ref measuring, true);
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long allocated = GC.GetTotalAllocatedBytes();
        await Task.Delay(Measure);
        Volatile.Write(ref measuring, false);
        long n = Interlocked.Read(ref calls);
        var rate = new Rate(n / clock.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / n,
            (double)(GC.GetTotalAllocatedBytes() - allocated) / n);
        Volatile.Write(ref stop, true);
        await Task.WhenAll(workers);
        return rate;
    }

    private static async Task<(double P50, double P99, int Count)> LatenciesAsync(ILocalBenchGrain grain, int count)
    {
        for (int i = 0; i < 5_000; i++) await grain.Add(1);
        var samples = new double[count];
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await grain.Add(1);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        Array.Sort(samples);
        return (samples[count / 2], samples[(int)(count * 0.99)], count);
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim(); }
        catch (IOException) { return "unknown"; }
    }

    private static string LocalHardware()
    {
        string cpu = "unknown CPU";
        try { cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu; }
        catch (IOException) { }
        return $"{cpu}, {Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, server GC {System.Runtime.GCSettings.IsServerGC}";
    }

    private sealed class PlainAdder : ILocalBenchGrain
    {
        private int _total;
        public async Task<int> Add(int value)
        {
            await Task.Yield(); // one thread-pool hop, like a turn on the activation's scheduler
            return Interlocked.Add(ref _total, value);
        }
    }
}
