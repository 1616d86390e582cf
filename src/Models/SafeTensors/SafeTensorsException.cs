namespace AlignCluster.Models.SafeTensors;

/// <summary>
/// A safetensors file (or sharded checkpoint) is malformed or does not hold what the caller expected.
/// The message always names the file and, where one is involved, the tensor. An <see cref="IOException"/>, as the
/// checkpoint reader's <see cref="InvalidDataException"/>s were: callers that treat unreadable input as bad input
/// catch it as such.
/// </summary>
public sealed class SafeTensorsException : IOException
{
    /// <summary>The file the problem was found in.</summary>
    public string FilePath { get; }

    /// <summary>The tensor involved, or null for a file-level problem.</summary>
    public string? TensorName { get; }

    public SafeTensorsException(string filePath, string? tensorName, string problem, Exception? inner = null)
        : base(Format(filePath, tensorName, problem), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    private static string Format(string filePath, string? tensorName, string problem) =>
        tensorName is null
            ? $"safetensors file '{filePath}': {problem}"
            : $"safetensors file '{filePath}', tensor '{tensorName}': {problem}";
}
