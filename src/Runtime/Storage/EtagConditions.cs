namespace AlignCluster.Runtime.Storage;

/// <summary>The ETag condition of <see cref="IStateStore.WriteAsync"/>, checked the same way by every store that holds its own records.</summary>
internal static class EtagConditions
{
    /// <summary>
    /// Throws <see cref="InconsistentStateException"/> unless the condition holds: <paramref name="expectedEtag"/> null
    /// requires that no record exists; otherwise the stored ETag must equal it (ordinal).
    /// </summary>
    public static void Check(string store, string container, string key, string? storedEtag, string? expectedEtag)
    {
        if (expectedEtag is null)
        {
            if (storedEtag is not null)
                throw new InconsistentStateException(
                    $"{store}: record {container}/{key} already exists (ETag {storedEtag}) but the write expected none", storedEtag, null);
        }
        else if (storedEtag != expectedEtag)
        {
            var found = storedEtag is null ? "does not exist" : $"has ETag {storedEtag}";
            throw new InconsistentStateException(
                $"{store}: record {container}/{key} {found} but the write expected ETag {expectedEtag}", storedEtag, expectedEtag);
        }
    }
}
