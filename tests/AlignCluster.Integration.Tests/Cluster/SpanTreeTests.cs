using System.Diagnostics;
using AlignCluster.Client.Cluster;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>Spans run → round → phases, captured in memory, with grain-call spans linked under the phase that made
/// them.</summary>
public class SpanTreeTests
{
    [Fact]
    public async Task RunRoundAndPhaseSpansFormOneTreeAcrossGrainCalls()
    {
        // Our sources and Orleans' (grain calls, with activity propagation), captured in memory.
        using var spans = new SpanCapture();

        await using (var cluster = await EmbeddedCluster.StartAsync(TestConfigs.TempDirectory()))
            await ClusterHarness.RunToEndAsync(cluster, TestConfigs.Tiny("traced", rounds: 2));

        var all = spans.Finished.ToList();
        var run = Assert.Single(all, s => s.OperationName == "run" && (string?)s.GetTagItem("run.id") == "traced");
        var byParent = all.ToLookup(s => s.ParentSpanId);
        List<Activity> Children(Activity a) => byParent[a.SpanId].Where(c => c.TraceId == a.TraceId).ToList();
        IEnumerable<Activity> Descendants(Activity a) => Children(a).SelectMany(c => Descendants(c).Prepend(c));

        Assert.Single(Children(run), c => c.OperationName == "prepare");
        var rounds = Children(run)
            .Where(c => c.OperationName == "round")
            .OrderBy(c => (int)c.GetTagItem("round")!)
            .ToList();
        Assert.Equal([1, 2], rounds.Select(r => (int)r.GetTagItem("round")!));
        foreach (var round in rounds)
        {
            var phases = Children(round).Select(c => c.OperationName).ToHashSet();
            Assert.Superset(new HashSet<string> { "train", "select", "evaluate", "checkpoint" }, phases);
            // The trainer's server span of TrainAsync hangs under this round's train span: context crossed the grain
            // call.
            var train = Children(round).Single(c => c.OperationName == "train");
            // (Orleans names a grain-call span "interface/method", client side in the caller, server side in the
            // callee.)
            Assert.Contains(Descendants(train), d =>
                d.Kind == ActivityKind.Server && d.DisplayName == "ITrainerGrain/TrainAsync"
            );
            Assert.Equal("traced", round.GetTagItem("run.id"));
        }
        var checkpoint = Descendants(run).First(s => s.OperationName == "checkpoint");
        Assert.NotNull(checkpoint.GetTagItem("checkpoint.key"));
        Assert.True((long)checkpoint.GetTagItem("checkpoint.bytes")! > 0);
    }
}
