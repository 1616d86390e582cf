using AlignCluster.Torch.Distributed;

namespace AlignCluster.Torch.Tests.Distributed;

/// <summary>
/// Runs the ranks of a test's process group on their own threads in this process, rendezvousing through a
/// FileStore in a fresh temporary directory.
/// </summary>
internal sealed class Ranks : IDisposable
{
    /// <summary>Timeout of groups that are expected to work (generous: CI machines are slow and shared).</summary>
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of groups whose failure a test provokes.</summary>
    public static readonly TimeSpan Short = TimeSpan.FromSeconds(1);

    // Guard against a hang: a test whose ranks do not finish within this fails instead of blocking the run.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private readonly string directory = Directory.CreateTempSubdirectory("aligncluster-c10d-").FullName;

    public string StorePath => Path.Combine(directory, "store");

    /// <summary>Joins a Gloo group as <paramref name="rank"/> of <paramref name="worldSize"/>.</summary>
    public ProcessGroup Join(int rank, int worldSize, TimeSpan? timeout = null)
    {
        using var store = Store.File(StorePath, worldSize, timeout ?? Generous);
        return ProcessGroup.Create(store, rank, worldSize, Backend.Gloo, timeout ?? Generous);
    }

    /// <summary>Runs <paramref name="body"/>(rank) on one thread per rank; returns each rank's result.</summary>
    public static T[] Run<T>(int worldSize, Func<int, T> body)
    {
        var results = new T[worldSize];
        var errors = new Exception?[worldSize];
        var threads = Enumerable.Range(0, worldSize).Select(rank => new Thread(() =>
        {
            try { results[rank] = body(rank); }
            catch (Exception e) { errors[rank] = e; }
        }) { IsBackground = true, Name = $"rank {rank}" }).ToArray();
        foreach (var t in threads) t.Start();
        var deadline = DateTime.UtcNow + HangGuard;
        foreach (var t in threads)
        {
            var left = deadline - DateTime.UtcNow;
            if (!t.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
                throw new TimeoutException($"{t.Name} did not finish within {HangGuard} (a collective hung)");
        }
        var failed = errors.Select((e, r) => (e, r)).Where(x => x.e is not null).ToArray();
        if (failed.Length > 0)
            throw new AggregateException(failed.Select(x => new Exception($"rank {x.r}: {x.e!.Message}", x.e)));
        return results;
    }

    /// <summary>Runs a body with no result on one thread per rank.</summary>
    public static void Run(int worldSize, Action<int> body) => Run(worldSize, rank => { body(rank); return 0; });

    public void Dispose()
    {
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { } // a rank that never joined may leave the store file behind; the OS temp cleaner gets it
    }
}
