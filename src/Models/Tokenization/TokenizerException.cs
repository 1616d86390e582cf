namespace AlignCluster.Models.Tokenization;

/// <summary>A tokenizer file is malformed or uses a feature we do not implement; the message names the file and
/// field.</summary>
public sealed class TokenizerException(string message, Exception? inner = null) : Exception(message, inner);
