namespace AlignCluster.Hosting.Checkpoints;

/// <summary>The key rules both stores share, so that a key valid on one is valid on the other.</summary>
internal static class CheckpointKeys
{
    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="key"/> is relative segments joined by '/', none
    /// empty, "." or "..", and no '\' or NUL (a key must never escape the store's directory or container).
    /// </summary>
    public static void Validate(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0)
            throw new ArgumentException("checkpoint key is empty", nameof(key));
        if (key.Contains('\\') || key.Contains('\0'))
            throw new ArgumentException($"checkpoint key '{key}' contains '\\' or NUL", nameof(key));
        foreach (string segment in key.Split('/'))
        {
            if (segment is "" or "." or "..")
                throw new ArgumentException(
                    $"checkpoint key '{key}' has an empty, '.' or '..' segment (keys are relative: a/b/c)",
                    nameof(key)
                );
        }
    }

    /// <summary>Prefixes follow the key rules, except that "" (everything) and a trailing '/' are allowed.</summary>
    public static void ValidatePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string trimmed = prefix.TrimEnd('/');
        if (trimmed.Length > 0)
            Validate(trimmed);
    }
}
