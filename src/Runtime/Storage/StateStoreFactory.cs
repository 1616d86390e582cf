namespace AlignCluster.Runtime.Storage;

/// <summary>
/// Builds an <see cref="IStateStore"/> from one configuration string:
/// <list type="bullet">
/// <item><c>memory</c> — <see cref="MemoryStateStore"/>;</item>
/// <item><c>local:DIR</c> — <see cref="LocalDirectoryStateStore"/> rooted at DIR (relative paths resolve against the current directory);</item>
/// <item><c>azureblob:CONNECTION STRING</c> with <c>Container=NAME</c> among its pairs — <see cref="AzureBlobStateStore"/>
/// (see <see cref="AzureStorageAccount"/> for the forms, e.g. <c>azureblob:UseDevelopmentStorage=true;Container=state</c>).</item>
/// </list>
/// </summary>
public static class StateStoreFactory
{
    /// <summary>Creates the store <paramref name="spec"/> describes; throws <see cref="FormatException"/> naming the problem.</summary>
    public static IStateStore Create(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var trimmed = spec.Trim();
        var colon = trimmed.IndexOf(':');
        var kind = (colon < 0 ? trimmed : trimmed[..colon]).ToLowerInvariant();
        var argument = colon < 0 ? "" : trimmed[(colon + 1)..].Trim();
        switch (kind)
        {
            case "memory" when argument.Length == 0:
                return new MemoryStateStore();
            case "local" when argument.Length > 0:
                return new LocalDirectoryStateStore(argument);
            case "azureblob" when argument.Length > 0:
                return new AzureBlobStateStore(argument);
            case "azureblob":
                throw new FormatException("storage 'azureblob' needs a connection string: azureblob:AccountName=...;AccountKey=...;Container=NAME");
            case "local":
                throw new FormatException("storage 'local' needs a directory: local:DIR");
            default:
                throw new FormatException($"unknown storage '{spec}': expected memory, local:DIR or azureblob:<connection string>;Container=NAME");
        }
    }
}
