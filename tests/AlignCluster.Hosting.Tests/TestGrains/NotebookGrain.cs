using AlignCluster.Hosting.Storage;

namespace AlignCluster.Hosting.Tests.TestGrains;

/// <summary>A grain whose only job is to keep state in the cluster's grain storage (the storage tests).</summary>
public interface INotebookGrain : IGrainWithStringKey
{
    Task<NotebookState> Read();
    Task Append(string line);
    Task Clear();
    Task<string?> ETag();
}

[GenerateSerializer, Alias("hosting-tests.NotebookState")]
public sealed class NotebookState
{
    [Id(0)]
    public List<string> Lines { get; set; } = [];

    [Id(1)]
    public int Writes { get; set; }
}

public sealed class NotebookGrain(
    [PersistentState("notebook", ClusterStorageOptions.GrainStorageName)] IPersistentState<NotebookState> state
) : Grain, INotebookGrain
{
    public Task<NotebookState> Read() => Task.FromResult(state.State);

    public async Task Append(string line)
    {
        state.State.Lines.Add(line);
        state.State.Writes++;
        await state.WriteStateAsync();
    }

    public Task Clear() => state.ClearStateAsync();

    public Task<string?> ETag() => Task.FromResult(state.Etag);
}
