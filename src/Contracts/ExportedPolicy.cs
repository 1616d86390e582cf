namespace AlignCluster.Contracts;

/// <summary>
/// A checkpoint's policy as the files of a plain Hugging Face directory (config.json, model.safetensors, tokenizer
/// files), for `aligncluster export --cluster`. Only names and sizes travel here: the bytes stay in the checkpoint
/// store
/// and are read in chunks (<see cref="ICoordinatorGrain.ReadCheckpointChunkAsync"/>), so no message carries a policy.
/// </summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.ExportedPolicy")]
public sealed record ExportedPolicy(string RunId, int Round, ExportedFile[] Files);

/// <summary>One file of an <see cref="ExportedPolicy"/>: its name in the directory, its checkpoint key and
/// size.</summary>
[GenerateSerializer, Immutable, Alias("AlignCluster.ExportedFile")]
public sealed record ExportedFile(string Name, string Key, long Length);
