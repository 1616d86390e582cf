namespace AlignCluster.Hosting.Placement;

/// <summary>
/// Every device of every compatible silo is leased: the grain cannot be placed. Serializable so the caller sees this
/// message, not a generic placement failure.
/// </summary>
[GenerateSerializer, Alias("AlignCluster.Hosting.NoFreeDeviceException")]
public sealed class NoFreeDeviceException : Exception
{
    public NoFreeDeviceException(string message)
        : base(message) { }
}
