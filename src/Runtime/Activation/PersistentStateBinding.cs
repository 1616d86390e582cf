using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Serialization;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Activation;

/// <summary>What the activation needs from each injected persistent state, whatever its T.</summary>
internal interface IStateBinding
{
    Task ReadStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes the state if it differs from what was last read or written (graceful deactivation).</summary>
    Task PersistIfChangedAsync(CancellationToken cancellationToken);
}

/// <summary>
/// <see cref="IPersistentState{TState}"/> on an <see cref="IStateStore"/>: container "grainstate", key
/// "{grain type}/{grain key}/{state name}" (the store encodes keys), value the state as JSON. Writes and clears are
/// conditional on the ETag of the last read or write; a lost race surfaces as <see cref="InconsistentStateException"/>.
/// </summary>
internal sealed class PersistentStateBinding<TState>(IStateStore store, GrainId grain, string stateName, WireSerializer serializer)
    : IPersistentState<TState>, IStateBinding
{
    public const string Container = "grainstate";
    private readonly string _key = $"{grain}/{stateName}";
    private byte[]? _persisted;

    public TState State { get; set; } = Fresh();
    public string? Etag { get; private set; }
    public bool RecordExists { get; private set; }

    public async Task ReadStateAsync(CancellationToken cancellationToken = default)
    {
        var record = await store.ReadAsync(Container, _key, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            (State, Etag, RecordExists, _persisted) = (Fresh(), null, false, null);
            return;
        }
        try
        {
            string what = $"state '{stateName}' of grain {grain}";
            State = (TState)serializer.Deserialize(record.Data, typeof(TState), what)!;
        }
        catch (SerializationException e)   // a record that reads whole but does not decode: as bad as a truncated one
        {
            string where = store is LocalDirectoryStateStore local
                ? local.RecordPath(Container, _key) : $"{store.Name} {Container}/{_key}";
            throw new StorageUnavailableException($"state is corrupt: {where} ({e.Message})", e);
        }
        (Etag, RecordExists, _persisted) = (record.Etag, true, record.Data.ToArray());
    }

    public async Task WriteStateAsync(CancellationToken cancellationToken = default)
    {
        var bytes = serializer.Serialize(State, typeof(TState)).ToArray();
        Etag = await store.WriteAsync(Container, _key, bytes, Etag, cancellationToken).ConfigureAwait(false);
        (RecordExists, _persisted) = (true, bytes);
    }

    public async Task ClearStateAsync(CancellationToken cancellationToken = default)
    {
        if (Etag is not null) await store.DeleteAsync(Container, _key, Etag, cancellationToken).ConfigureAwait(false);
        (State, Etag, RecordExists, _persisted) = (Fresh(), null, false, null);
    }

    public Task PersistIfChangedAsync(CancellationToken cancellationToken)
    {
        var now = serializer.Serialize(State, typeof(TState)).Span;
        var baseline = _persisted ?? serializer.Serialize(Fresh(), typeof(TState)).ToArray();
        return now.SequenceEqual(baseline) ? Task.CompletedTask : WriteStateAsync(cancellationToken);
    }

    private static TState Fresh() =>
        typeof(TState).IsValueType || typeof(TState).GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance<TState>() : default!;
}
