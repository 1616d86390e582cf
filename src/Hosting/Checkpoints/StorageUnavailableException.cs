namespace AlignCluster.Hosting.Checkpoints;

/// <summary>
/// A store (checkpoints or grain state) cannot be reached or used: the message names the store and the cause.
/// Serializable so that it reaches a caller across grain calls with its text intact.
/// </summary>
[GenerateSerializer, Alias("AlignCluster.Hosting.StorageUnavailableException")]
public sealed class StorageUnavailableException : Exception
{
    public StorageUnavailableException(string store, string cause, Exception? inner = null)
        : base($"storage unavailable: {store}: {cause}", inner)
    {
        Store = store;
    }

    /// <summary>The store's name, as <see cref="ICheckpointStorage.Name"/> gives it.</summary>
    [Id(0)]
    public string Store { get; }
}
