using System.Diagnostics;
using System.Reflection;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// The coordinator orchestrates and never handles token arrays: sampling, rating and merging happen on the trainer,
/// which reads and writes the shards itself (docs/cluster.md, "Data flow").
/// </summary>
public class DataFlowTests
{
    [Fact]
    public void NoReplyOfTheTrainerCarriesTokenIds()
    {
        // Token ids travel as int[] (Messages.cs); a reply type holding one anywhere (as GenerateAsync's
        // GeneratedResponse did) would bring sampled texts back to whoever called the trainer.
        var offenders = typeof(ITrainerGrain)
            .GetMethods()
            .Where(m => HoldsTokenIds(ReplyType(m.ReturnType), []))
            .Select(m => m.Name)
            .ToList();
        Assert.Empty(offenders);
        // The walk finds token ids where they are: a shard's training items do hold them.
        Assert.True(HoldsTokenIds(typeof(PromptGroup[]), []));
    }

    [Fact]
    public async Task AnOnlineRoundIsOneTrainerCallThatMergesIntoTheShardsItself()
    {
        using var spans = new SpanCapture();
        var config = TestConfigs.Tiny("flow-online", rounds: 2) with
        {
            Online = new OnlineConfig
            {
                Every = 1,
                Generations = 2,
                Cap = 8,
            },
        };
        RunStatus status;
        await using (var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory()))
            status = await ClusterHarness.RunToEndAsync(cluster, config);
        Assert.True(status.History[1].CandidatesAdded > 0, "round 2 added no candidates");

        var all = spans.Finished.ToList();
        var byParent = all.ToLookup(s => s.ParentSpanId);
        List<Activity> Children(Activity a) => byParent[a.SpanId].Where(c => c.TraceId == a.TraceId).ToList();
        IEnumerable<Activity> Descendants(Activity a) => Children(a).SelectMany(c => Descendants(c).Prepend(c));
        var generate = Assert.Single(all, s =>
            s.OperationName == "generate"
            && (string?)s.GetTagItem("run.id") == "flow-online"
            && (int?)s.GetTagItem("round") == 2
        );
        // (Orleans names a grain-call span "interface/method", client side in the caller.) The coordinator's own
        // calls in the phase: one to the trainer, none to a shard (the reference scoring has a "score" span of its own).
        var calls = Children(generate).Where(c => c.Kind == ActivityKind.Client).Select(c => c.DisplayName).ToList();
        Assert.Equal(["ITrainerGrain/GenerateCandidatesAsync"], calls);
        // The shards were read and merged into from inside the trainer's call.
        var onTrainer = Assert.Single(Descendants(generate), d =>
            d.Kind == ActivityKind.Server && d.DisplayName == "ITrainerGrain/GenerateCandidatesAsync"
        );
        var shardCalls = Descendants(onTrainer).Where(d => d.Kind == ActivityKind.Server).Select(d => d.DisplayName);
        Assert.Equal(config.Shards, shardCalls.Count(n => n == "IPromptShardGrain/MergeCandidatesAsync"));
        Assert.Equal(config.Shards, shardCalls.Count(n => n == "IPromptShardGrain/GetTrainingItemsAsync"));
    }

    /// <summary>The value type of a reply (Task&lt;T&gt; → T; a plain Task has none).</summary>
    private static Type? ReplyType(Type returned) =>
        returned.IsGenericType && returned.GetGenericTypeDefinition() == typeof(Task<>)
            ? returned.GetGenericArguments()[0]
            : null;

    /// <summary>Whether an int[] is reachable from <paramref name="type"/> through arrays, generic arguments and
    /// public properties of our contract types.</summary>
    private static bool HoldsTokenIds(Type? type, HashSet<Type> seen)
    {
        if (type is null || !seen.Add(type))
            return false;
        if (type == typeof(int[]))
            return true;
        if (type.IsArray)
            return HoldsTokenIds(type.GetElementType(), seen);
        if (type.IsGenericType && type.GetGenericArguments().Any(a => HoldsTokenIds(a, seen)))
            return true;
        if (Nullable.GetUnderlyingType(type) is { } inner)
            return HoldsTokenIds(inner, seen);
        return type.Assembly == typeof(ITrainerGrain).Assembly
            && type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Any(p => HoldsTokenIds(p.PropertyType, seen));
    }
}
