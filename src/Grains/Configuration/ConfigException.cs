namespace AlignCluster.Grains.Configuration;

/// <summary>A run configuration that cannot be used: the message names the file, line or field and the cause.</summary>
public sealed class ConfigException(string message, Exception? inner = null) : Exception(message, inner);
