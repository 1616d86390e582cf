namespace AlignCluster.Runtime;

/// <summary>
/// On a grain constructor parameter of type <see cref="IPersistentState{TState}"/>: the runtime injects the state,
/// reads it before OnActivateAsync, and stores it in the state store registered under <paramref name="storageName"/>.
/// </summary>
/// <param name="stateName">Name of this state within the grain (a grain may have several).</param>
/// <param name="storageName">Name of a registered <see cref="Storage.IStateStore"/>; null means "Default".</param>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class PersistentStateAttribute(string stateName, string? storageName = null) : Attribute
{
    public string StateName { get; } = stateName;
    public string StorageName { get; } = storageName ?? "Default";
}

/// <summary>A grain's durable state with optimistic concurrency (Orleans' IPersistentState).</summary>
/// <remarks>
/// <see cref="WriteStateAsync"/> writes under the current <see cref="Etag"/>; if anyone else wrote the record since
/// it was read, the write throws <see cref="Storage.InconsistentStateException"/> and nothing is changed.
/// </remarks>
public interface IPersistentState<TState>
{
    /// <summary>The state object; a fresh instance (parameterless constructor) while no record exists.</summary>
    TState State { get; set; }

    /// <summary>The ETag of the last read or write; null while no record exists.</summary>
    string? Etag { get; }

    /// <summary>Whether a record exists in the store.</summary>
    bool RecordExists { get; }

    /// <summary>Re-reads the record (discarding in-memory changes).</summary>
    Task ReadStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes <see cref="State"/> conditionally on <see cref="Etag"/>.</summary>
    Task WriteStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes the record conditionally on <see cref="Etag"/> and resets <see cref="State"/>.</summary>
    Task ClearStateAsync(CancellationToken cancellationToken = default);
}
