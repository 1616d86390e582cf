using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

/// <summary>
/// Which types a run allocates, sampled from the runtime's own GCAllocationTick events (one per ~100 KB allocated,
/// naming the type that crossed the mark): a profiler-free way to see where the bytes per call go. Enabled with
/// ALIGNCLUSTER_BENCH_ALLOCS=1; prints the top types when disposed.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();
    private long _total;

    public static AllocationSampler? StartIfRequested() =>
        Environment.GetEnvironmentVariable("ALIGNCLUSTER_BENCH_ALLOCS") == "1" ? new AllocationSampler() : null;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);   // GC keyword: AllocationTick is verbose
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.Payload is null) return;
        int typeIndex = e.PayloadNames!.IndexOf("TypeName"), amountIndex = e.PayloadNames.IndexOf("AllocationAmount64");
        if (typeIndex < 0 || amountIndex < 0) return;
        long amount = Convert.ToInt64(e.Payload[amountIndex]);
        _bytes.AddOrUpdate((string)e.Payload[typeIndex]!, amount, (_, total) => total + amount);
        Interlocked.Add(ref _total, amount);
    }

    public void Report(int top = 25)
    {
        Console.WriteLine($"sampled allocations by type (GCAllocationTick, {_total / 1e6:F0} MB sampled):");
        foreach (var (type, bytes) in _bytes.OrderByDescending(kv => kv.Value).Take(top))
            Console.WriteLine($"  {100.0 * bytes / _total,5:F1} %  {type}");
    }
}
