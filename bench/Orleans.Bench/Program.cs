// Orleans call rates on this machine, side by side from one run (never part of the tests):
//   grain → grain on the same silo, and grain → grain on another silo, 1 and 16 calls in flight;
//   a round's training items (prompt groups as token arrays) moved in one call, local and cross-silo.
// Two silos run in this process (Orleans.TestingHost) and talk over loopback TCP.
//   dotnet run -c Release --project bench/Orleans.Bench [-- --seconds 3 --prompts 1024]
using System.Diagnostics;
using AlignCluster.Contracts;
using Orleans.Runtime;
using Orleans.TestingHost;

double seconds = ArgOr("--seconds", 3.0);
int prompts = (int)ArgOr("--prompts", 1024.0);

var builder = new InProcessTestClusterBuilder(2);
await using var cluster = builder.Build();
await cluster.DeployAsync();
var management = cluster.Client.GetGrain<IManagementGrain>(0);
var (silo0, silo1) = (cluster.Silos[0].SiloAddress, cluster.Silos[1].SiloAddress);

// Grains are placed at random: find a caller and a local callee on silo 0 and a remote callee on silo 1.
var where = new Dictionary<SiloAddress, List<int>> { [silo0] = [], [silo1] = [] };
for (int key = 0; where.Values.Any(l => l.Count < 2) && key < 256; key++)
{
    var grain = cluster.Client.GetGrain<IPingGrain>(key);
    await grain.PingAsync(0);
    where[await management.GetActivationAddress(grain)].Add(key);
}
var caller = cluster.Client.GetGrain<IPingGrain>(where[silo0][0]);
int local = where[silo0][1],
    remote = where[silo1][0];

var groups = RoundItems(prompts);
Console.WriteLine(
    $"Orleans 10.4.2 call rates — {Environment.ProcessorCount} cores, {Load()}, .NET {Environment.Version}, "
        + $"{seconds:F0} s per case, 2 silos in one process over loopback"
);
Console.WriteLine($"{"case", -34} {"local", 14} {"cross-silo", 14} {"cross/local", 12}");
foreach (int inFlight in new[] { 1, 16 })
{
    double l = await caller.CallRateAsync(local, inFlight, TimeSpan.FromSeconds(seconds));
    double r = await caller.CallRateAsync(remote, inFlight, TimeSpan.FromSeconds(seconds));
    Console.WriteLine($"{$"grain call, {inFlight} in flight (calls/s)", -34} {l, 14:N0} {r, 14:N0} {r / l, 12:F2}");
}
double sendLocal = await caller.SendRoundAsync(local, groups, 5),
    sendRemote = await caller.SendRoundAsync(remote, groups, 5);
long tokens = groups.Sum(g => g.PromptTokenIds.Length + g.Candidates.Sum(c => c.TokenIds.Length));
Console.WriteLine(
    $"{$"round items, {prompts} prompts (ms/call)", -34} {sendLocal, 14:F1} {sendRemote, 14:F1} "
        + $"{sendRemote / sendLocal, 12:F2}"
);
Console.WriteLine(
    $"(round items: {groups.Length} prompts × {groups[0].Candidates.Length} candidates, {tokens:N0} token ids; "
        + "compare with a round's compute in the run's RoundReport.Seconds)"
);

static PromptGroup[] RoundItems(int prompts)
{
    var random = new Random(1);
    int[] Tokens(int n) => [.. Enumerable.Range(0, n).Select(_ => random.Next(50_000))];
    return
    [
        .. Enumerable
            .Range(0, prompts)
            .Select(p => new PromptGroup(
                $"p{p}",
                Tokens(32),
                [.. Enumerable.Range(0, 8).Select(c => new Candidate($"c{c}", Tokens(64), c, -1.5 * c))],
                0
            )),
    ];
}

static string Load()
{
    try
    {
        return "load average " + File.ReadAllText("/proc/loadavg").Split(' ')[0];
    }
    catch (IOException)
    {
        return "load average n/a";
    }
}

double ArgOr(string name, double fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && double.TryParse(args[i + 1], out double v) ? v : fallback;
}

/// <summary>A grain that answers pings and measures calls to another ping grain from inside its silo.</summary>
public interface IPingGrain : IGrainWithIntegerKey
{
    Task<int> PingAsync(int value);

    /// <summary>Calls/s of <see cref="PingAsync"/> to grain <paramref name="target"/>, <paramref name="inFlight"/> at a
    /// time.</summary>
    Task<double> CallRateAsync(int target, int inFlight, TimeSpan duration);

    /// <summary>Mean milliseconds of a call carrying <paramref name="groups"/> to grain <paramref
    /// name="target"/>.</summary>
    Task<double> SendRoundAsync(int target, PromptGroup[] groups, int repeats);

    Task<int> ReceiveAsync(PromptGroup[] groups);
}

public sealed class PingGrain : Grain, IPingGrain
{
    public Task<int> PingAsync(int value) => Task.FromResult(value + 1);

    public Task<int> ReceiveAsync(PromptGroup[] groups) => Task.FromResult(groups.Length);

    public async Task<double> CallRateAsync(int target, int inFlight, TimeSpan duration)
    {
        var peer = GrainFactory.GetGrain<IPingGrain>(target);
        await peer.PingAsync(0); // warm
        long calls = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(
            Enumerable
                .Range(0, inFlight)
                .Select(async _ =>
                {
                    while (clock.Elapsed < duration)
                    {
                        await peer.PingAsync(1);
                        Interlocked.Increment(ref calls);
                    }
                })
        );
        return calls / clock.Elapsed.TotalSeconds;
    }

    public async Task<double> SendRoundAsync(int target, PromptGroup[] groups, int repeats)
    {
        var peer = GrainFactory.GetGrain<IPingGrain>(target);
        await peer.ReceiveAsync(groups); // warm
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++)
            await peer.ReceiveAsync(groups);
        return clock.Elapsed.TotalMilliseconds / repeats;
    }
}
