using System.Text.Json;
using System.Text.Json.Serialization;
using AlignCluster.Runtime.Storage;

namespace AlignCluster.Runtime.Membership;

/// <summary>
/// The membership table in an <see cref="IStateStore"/>: one record per cluster, changed only by compare-and-swap on
/// its ETag. Orleans keeps a table version plus per-row ETags and writes a row together with the version row; a blob
/// store has no multi-record transactions, so the whole table is one record and its ETag guards every row at once
/// (strictly stronger: any concurrent change makes the slower writer re-read and decide again).
/// </summary>
public sealed class MembershipTable(IStateStore store, string clusterId)
{
    public const string Container = "membership";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = true,
    };

    /// <summary>Where the table lives, for errors.</summary>
    public string Location => $"{store.Name}/{Container}/{clusterId}";

    /// <summary>The current table (empty when none was written yet) and its ETag (null when none exists).</summary>
    public async Task<(MembershipTableData Table, string? Etag)> ReadAsync(CancellationToken cancellationToken)
    {
        var record = await store.ReadAsync(Container, clusterId, cancellationToken).ConfigureAwait(false);
        if (record is null) return (new MembershipTableData(), null);
        try
        {
            var table = JsonSerializer.Deserialize<MembershipTableData>(record.Data.Span, Json)
                        ?? throw new JsonException("the record is JSON null");
            return (table, record.Etag);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"membership table {Location} is not valid: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads, applies <paramref name="change"/> and writes back under the read ETag, retrying from a fresh read when
    /// another silo wrote in between. <paramref name="change"/> returns false to leave the table as it is.
    /// Returns the table as stored afterwards.
    /// </summary>
    public async Task<MembershipTableData> UpdateAsync(Func<MembershipTableData, bool> change, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            var (table, etag) = await ReadAsync(cancellationToken).ConfigureAwait(false);
            if (!change(table)) return table;
            try
            {
                await store.WriteAsync(Container, clusterId, JsonSerializer.SerializeToUtf8Bytes(table, Json), etag, cancellationToken).ConfigureAwait(false);
                return table;
            }
            catch (InconsistentStateException) when (attempt < 50)
            {
                // Someone else changed the table since we read it: decide again on the fresh version.
                await Task.Delay(Random.Shared.Next(5, 20 * Math.Min(attempt, 10)), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
