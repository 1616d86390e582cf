using System.Diagnostics;
using AlignCluster.Runtime;
using AlignCluster.Runtime.Hosting;
using AlignCluster.Runtime.Protos;
using AlignCluster.Runtime.Transport;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

public interface IBenchEchoGrain : IGrainWithStringKey
{
    Task<int> Echo(int value);
    Task<string> WhereAmI();
}

public sealed class BenchEchoGrain : Grain, IBenchEchoGrain
{
    public Task<int> Echo(int value) => Task.FromResult(value);
    public Task<string> WhereAmI() => Task.FromResult(GrainContext.Silo.ToString());
}

/// <summary>
/// Cross-silo call rate and latency: two silos in this process (real Kestrel HTTP/2 on loopback, real membership on
/// a shared local-directory store); silo A calls grains that live on silo B, one at a time and with 16 in flight.
/// A raw transport echo (envelopes only, no runtime) is measured the same way for comparison.
/// </summary>
internal static class CrossSiloBench
{
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(1), Measure = TimeSpan.FromSeconds(5);

    public static async Task RunAsync()
    {
        Console.WriteLine($"cross-silo bench on {BenchHardware.Describe()}");
        var dir = Directory.CreateTempSubdirectory("aligncluster-bench-");
        var key = ClusterKey.Generate();
        string[] Args() => ["--cluster:key=" + key, "--cluster:id=bench", "--network:port=0", "--storage:default=local:" + dir.FullName,
            "--Logging:LogLevel:Default=Warning"];
        using var hostA = SiloHostBuilder.Create(Args(), _ => new RuntimeOptions().AddGrain<BenchEchoGrain>()).Build();
        using var hostB = SiloHostBuilder.Create(Args(), _ => new RuntimeOptions().AddGrain<BenchEchoGrain>()).Build();
        await hostA.StartAsync();
        await hostB.StartAsync();
        try
        {
            var siloA = hostA.Services.GetRequiredService<SiloHostedService>();
            var siloB = hostB.Services.GetRequiredService<SiloHostedService>();
            await WaitForBothActive(siloA, siloB);
            var factory = siloA.Runtime!.GrainFactory;
            var remoteKeys = new List<string>();
            for (int i = 0; remoteKeys.Count < 16; i++)
                if (await factory.GetGrain<IBenchEchoGrain>($"echo{i}").WhereAmI() == siloB.Address!.ToString()) remoteKeys.Add($"echo{i}");
            var grains = remoteKeys.Select(k => factory.GetGrain<IBenchEchoGrain>(k)).ToArray();

            await using var raw = new TransportClient(new ClusterKey(key));
            var endpoint = $"{siloB.Address!.Host}:{siloB.Address.Port}";
            var ping = new Envelope { Kind = EnvelopeKind.Ping, TargetSilo = siloB.Address.ToString(), Payload = ByteString.CopyFrom(new byte[16]) };

            Console.WriteLine($"{"case",-34} {"calls/s",10} {"p50 ms",8} {"p99 ms",8}");
            var grainSeq = await MeasureAsync("grain call A→B, 1 in flight", 1, w => grains[w].Echo(w));
            var grain16 = await MeasureAsync("grain call A→B, 16 in flight", 16, w => grains[w].Echo(w));
            var rawSeq = await MeasureAsync("transport ping, 1 in flight", 1, _ => raw.SendAsync(endpoint, ping.Clone()));
            var raw16 = await MeasureAsync("transport ping, 16 in flight", 16, _ => raw.SendAsync(endpoint, ping.Clone()));
            Console.WriteLine($"ratios: grain 16-in-flight / sequential = {grain16 / grainSeq:F2}x; grain / raw transport (16 in flight) = {grain16 / raw16:F2}x;" +
                              $" raw 16 / raw 1 = {raw16 / rawSeq:F2}x");
            Console.WriteLine($"targets: >= 20000 calls/s with 16 in flight, p99 < 5 ms");
        }
        finally
        {
            await hostA.StopAsync();
            await hostB.StopAsync();
            dir.Delete(recursive: true);
        }
    }

    private static async Task WaitForBothActive(SiloHostedService a, SiloHostedService b)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (a.Membership!.Current.IsActive(b.Address!) && b.Membership!.Current.IsActive(a.Address!)) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("the two silos did not see each other as Active within 30 s");
    }

    /// <summary>Runs <paramref name="workers"/> closed loops for the warmup, then the measured window; prints and returns calls/s.</summary>
    private static async Task<double> MeasureAsync<T>(string name, int workers, Func<int, Task<T>> call)
    {
        var samples = new List<double>[workers];
        long stopAt = 0;
        async Task Loop(int w, bool record)
        {
            var mine = samples[w] = new List<double>(1 << 16);
            while (Stopwatch.GetTimestamp() < Volatile.Read(ref stopAt))
            {
                long start = Stopwatch.GetTimestamp();
                await call(w).ConfigureAwait(false);
                if (record) mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
        stopAt = Stopwatch.GetTimestamp() + (long)(Warmup.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(() => Loop(w, false))));
        var clock = Stopwatch.StartNew();
        stopAt = Stopwatch.GetTimestamp() + (long)(Measure.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(() => Loop(w, true))));
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = samples.SelectMany(s => s).Order().ToArray();
        double rate = all.Length / elapsed;
        Console.WriteLine($"{name,-34} {rate,10:F0} {Percentile(all, 0.50),8:F3} {Percentile(all, 0.99),8:F3}");
        return rate;
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
