using System.Text;
using AlignCluster.Grains.Configuration;
using AlignCluster.Interfaces;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Client.Cluster;

/// <summary>The runs a state store knows (container "runs": run id → its config as YAML), for `status` and `--resume`.</summary>
public sealed class RunIndex(IStateStore store)
{
    public const string Container = "runs";

    /// <summary>The config a run was started with, or null when the store has no such run.</summary>
    public async Task<RunConfig?> GetAsync(string runId)
    {
        if (await store.ReadAsync(Container, runId) is not { } record) return null;
        try { return RunConfigLoader.FromYaml(Encoding.UTF8.GetString(record.Data.Span), $"{store.Name}/{Container}/{runId}"); }
        catch (ConfigException e)   // unusable state, not the user's input
        {
            throw new ClientException($"run '{runId}': its stored config no longer loads: {e.Message}", exitCode: 3);
        }
    }

    /// <summary>Records a new run; fails when the id is taken (so two runs never share checkpoints).</summary>
    public async Task AddAsync(RunConfig config)
    {
        try
        {
            await store.WriteAsync(Container, config.RunId, Encoding.UTF8.GetBytes(RunConfigLoader.ToYaml(config)), expectedEtag: null);
        }
        catch (InconsistentStateException)
        {
            throw new ClientException($"run '{config.RunId}' already exists in {store.Name}; pass --resume to continue it or choose another run_id (--set run_id=NAME)");
        }
    }

    public async Task<List<string>> ListAsync()
    {
        var ids = new List<string>();
        await foreach (var key in store.ListAsync(Container)) ids.Add(key);
        return ids;
    }
}
