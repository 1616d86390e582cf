using System.Diagnostics;
using AlignCluster.Client.Cluster;
using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;
using AlignCluster.Grains.Hosting;
using AlignCluster.Tests.Shared;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Orleans.Runtime;

namespace AlignCluster.Integration.Tests.Cluster;

/// <summary>
/// One trace from the user's command to the trainer: `aligncluster train --cluster` against two silos over loopback TCP,
/// the coordinator on one and the trainer on the other (the only silo with a device). Command and silos run in this
/// process, so the OpenTelemetry in-memory exporter sees every span.
/// </summary>
public class CliTraceTests
{
    [Fact]
    public async Task TrainCommandsTraceRunsThroughCoordinatorShardsAndTrainerOnTwoSilos()
    {
        var exported = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(ClientTelemetry.Sources)
            .AddInMemoryExporter(exported)
            .Build();

        // Two silo hosts in this process on loopback TCP (the command line connects as it would to deploy/local); silo
        // 0 has no device, so the trainer can only go to silo 1.
        string directory = TestConfigs.TempDirectory();
        int primaryPort = LoopbackPorts.FreePort();
        await using var silo0 = await LoopbackSilo.StartAsync(
            directory,
            primaryPort,
            LoopbackPorts.FreePort(),
            null,
            []
        );
        await using var silo1 = await LoopbackSilo.StartAsync(
            directory,
            LoopbackPorts.FreePort(),
            LoopbackPorts.FreePort(),
            primaryPort,
            ["cpu:0"]
        );
        string gateway = $"127.0.0.1:{silo0.Gateway}";
        await using var observer = await RemoteCluster.ConnectAsync([gateway]);
        var management = observer.Client.GetGrain<IManagementGrain>(0);

        // A run id whose coordinator lands on silo 0 (a status call activates it and starts nothing).
        string runId = "";
        for (int i = 0; i < 64 && runId == ""; i++)
        {
            var candidate = observer.Client.GetGrain<ICoordinatorGrain>($"traced-cli-{i}");
            await candidate.GetStatusAsync();
            if ((await management.GetActivationAddress(candidate))?.Endpoint.Port == primaryPort)
                runId = $"traced-cli-{i}";
        }
        Assert.NotEqual("", runId);
        string config = Path.Combine(directory, "run.yaml");
        File.WriteAllText(config, RunConfigLoader.ToYaml(TestConfigs.Tiny(runId, rounds: 2)));

        var (code, output) = await RunCommandLineAsync(
            "train",
            "--cluster",
            gateway,
            "--config",
            config,
            "--logdir",
            "none"
        );
        Assert.True(code == 0, $"train --cluster exited {code}: {output}");

        // Where the grains ran: the coordinator on silo 0, the trainer on silo 1.
        var coordinatorSilo = await management.GetActivationAddress(observer.Client.GetGrain<ICoordinatorGrain>(runId));
        var trainerSilo = await management.GetActivationAddress(
            observer.Client.GetGrain<ITrainerGrain>($"{runId}/trainer-0")
        );
        Assert.Equal(primaryPort, coordinatorSilo?.Endpoint.Port);
        Assert.Equal(silo1.SiloPort, trainerSilo?.Endpoint.Port);

        // The command's span is the root; everything below shares its trace id.
        tracing.ForceFlush();
        var command = Assert.Single(exported.ToList(), s =>
            s.Source.Name == "AlignCluster.Client" && (string?)s.GetTagItem("run.id") == runId
        );
        Assert.Equal("train", command.OperationName);
        var trace = exported.Where(s => s.TraceId == command.TraceId).ToList();
        var byId = trace.ToDictionary(s => s.SpanId);
        bool Under(Activity span, Activity ancestor)
        {
            for (var s = span; byId.TryGetValue(s.ParentSpanId, out var parent); s = parent)
                if (parent.SpanId == ancestor.SpanId)
                    return true;
            return false;
        }

        // The coordinator's grain call (silo 0), the run span it started, and that run's rounds.
        var start = Assert.Single(trace, s => s.Kind == ActivityKind.Server && s.DisplayName.EndsWith("/StartAsync"));
        Assert.True(Under(start, command), "the coordinator's StartAsync is not under the command's span");
        var run = Assert.Single(trace, s => s.OperationName == "run");
        Assert.True(Under(run, start), "the run span does not continue the StartAsync call that started it");
        Assert.Equal(2, trace.Count(s => s.OperationName == "round" && Under(s, run)));

        // The trainer's calls (silo 1) and the shards' calls, each under the run.
        var trains = trace.Where(s => s.Kind == ActivityKind.Server && s.DisplayName == "ITrainerGrain/TrainAsync");
        Assert.Equal(2, trains.Count(s => Under(s, run)));
        Assert.Contains(trace, s =>
            s.Kind == ActivityKind.Server && s.DisplayName.StartsWith("IPromptShardGrain/") && Under(s, run)
        );
    }

    /// <summary>The `aligncluster` program's entry point, with these arguments, in this process; what it wrote to
    /// stdout and stderr.</summary>
    private static async Task<(int Code, string Output)> RunCommandLineAsync(params string[] args)
    {
        // The compiler's synchronous wrapper of the top-level program: it blocks, so it runs on a pool thread.
        var main = typeof(RemoteCluster).Assembly.EntryPoint!;
        var (stdout, stderr) = (Console.Out, Console.Error);
        var output = new StringWriter();
        Console.SetOut(output);
        Console.SetError(output);
        try
        {
            return (await Task.Run(() => (int)main.Invoke(null, [args])!), output.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }
}
