using AlignCluster.Runtime;

namespace AlignCluster.Interfaces;

/// <summary>
/// A checkpoint's policy as the files of a plain Hugging Face directory (config.json, model.safetensors), read from the
/// silos' store for `aligncluster export --cluster`.
/// </summary>
[GenerateSerializer]
public sealed record ExportedPolicy(string RunId, int Round, ExportedFile[] Files);

/// <summary>One file of an <see cref="ExportedPolicy"/>: its name in the directory and its bytes.</summary>
[GenerateSerializer]
public sealed record ExportedFile(string Name, byte[] Data);
