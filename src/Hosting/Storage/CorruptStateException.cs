namespace AlignCluster.Hosting.Storage;

/// <summary>
/// A stored grain state that cannot be read back (truncated, overwritten, not ours). The message starts with
/// "state is corrupt: FILE" so an operator knows which file to inspect or remove; the grain fails to activate
/// rather than start from default state.
/// </summary>
[GenerateSerializer, Alias("AlignCluster.Hosting.CorruptStateException")]
public sealed class CorruptStateException : Exception
{
    public CorruptStateException(string file, string reason)
        : base($"state is corrupt: {file} ({reason})")
    {
        File = file;
    }

    [Id(0)]
    public string File { get; }
}
