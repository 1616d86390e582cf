using System.Text;
using AlignCluster.Contracts;
using AlignCluster.Grains.Configuration;
using AlignCluster.Hosting.Checkpoints;

namespace AlignCluster.Client.Cluster;

/// <summary>The runs a state directory knows (STATE/runs/{id}.yaml: the config a run started with), for `status` and
/// `--resume`.</summary>
public sealed class RunIndex(ICheckpointStorage store)
{
    /// <summary>The run index of a state directory.</summary>
    public static ICheckpointStorage StorageOf(string stateDirectory) =>
        new LocalCheckpointStorage(Path.Combine(stateDirectory, "runs"));

    public string Name => store.Name;

    /// <summary>The config a run was started with, or null when the store has no such run.</summary>
    public async Task<RunConfig?> GetAsync(string runId)
    {
        await using var stream = await store.OpenReadAsync(runId + ".yaml");
        if (stream is null)
            return null;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string yaml = await reader.ReadToEndAsync();
        try
        {
            return RunConfigLoader.FromYaml(yaml, $"{store.Name}/{runId}.yaml");
        }
        catch (ConfigException e) // unusable state, not the user's input
        {
            throw new ClientException($"run '{runId}': its stored config no longer loads: {e.Message}", exitCode: 3);
        }
    }

    /// <summary>Records a new run; fails when the id is taken (so two runs never share checkpoints).</summary>
    public async Task AddAsync(RunConfig config)
    {
        if (await store.ExistsAsync(config.RunId + ".yaml"))
            throw new ClientException(
                $"run '{config.RunId}' already exists in {store.Name}; pass --resume to continue it or choose "
                    + "another run_id (--set run_id=NAME)"
            );
        await store.WriteAsync(config.RunId + ".yaml", Encoding.UTF8.GetBytes(RunConfigLoader.ToYaml(config)));
    }

    public async Task<List<string>> ListAsync()
    {
        var ids = new List<string>();
        await foreach (var key in store.ListAsync(""))
            if (key.EndsWith(".yaml", StringComparison.Ordinal))
                ids.Add(key[..^".yaml".Length]);
        return ids;
    }
}
