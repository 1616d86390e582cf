using System.Text;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Activation;

/// <summary>
/// The cluster-wide grain directory: one record per activated grain in the state store, naming the silo that hosts
/// it. A silo may activate a grain only after it (or the silo that placed the grain there) won the conditional write
/// of that record, so concurrent first calls on different silos still yield a single activation. A record naming a
/// silo that membership no longer lists as active is stale and is overwritten (conditionally) by the next placement.
/// </summary>
internal sealed class GrainDirectory(IStateStore store)
{
    private const string Container = "directory";

    /// <summary>A directory record: the hosting silo and the record's ETag.</summary>
    public sealed record Entry(SiloAddress Silo, string Etag);

    public async Task<Entry?> ReadAsync(GrainId grain, CancellationToken cancellationToken)
    {
        var record = await store.ReadAsync(Container, Key(grain), cancellationToken).ConfigureAwait(false);
        return record is null ? null : new Entry(SiloAddress.Parse(Encoding.UTF8.GetString(record.Data.Span)), record.Etag);
    }

    /// <summary>Records <paramref name="silo"/> as the host if the record still has <paramref name="expectedEtag"/>
    /// (null = absent); the new ETag, or null when someone else changed the record first.</summary>
    public async Task<string?> TryRegisterAsync(GrainId grain, SiloAddress silo, string? expectedEtag, CancellationToken cancellationToken)
    {
        try
        {
            return await store.WriteAsync(Container, Key(grain), Encoding.UTF8.GetBytes(silo.ToString()), expectedEtag, cancellationToken).ConfigureAwait(false);
        }
        catch (InconsistentStateException)
        {
            return null;
        }
    }

    /// <summary>Removes the record if it is still ours; a lost race is not an error.</summary>
    public async Task UnregisterAsync(GrainId grain, string etag)
    {
        try
        {
            await store.DeleteAsync(Container, Key(grain), etag).ConfigureAwait(false);
        }
        catch (InconsistentStateException)
        {
        }
    }

    internal static string Key(GrainId grain) => grain.ToString();
}
