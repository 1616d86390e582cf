using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AlignCluster.Runtime.Hosting;

/// <summary>
/// A YAML file as an <see cref="IConfiguration"/> source: mappings become "a:b" keys, sequences "a:0", "a:1", …
/// (the same shape as JSON configuration). A syntax error names the file, line and column.
/// </summary>
public sealed class YamlConfigurationSource(string path, bool optional) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new YamlConfigurationProvider(path, optional);
}

/// <summary>Loads one YAML file into configuration key/values.</summary>
public sealed class YamlConfigurationProvider(string path, bool optional) : ConfigurationProvider
{
    public override void Load()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(path))
        {
            if (optional) { Data = data; return; }
            throw new FileNotFoundException($"silo configuration file {Path.GetFullPath(path)} does not exist", path);
        }
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            yaml.Load(reader);
        }
        catch (YamlException e)
        {
            throw new FormatException($"{path} line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet reports some truncated documents this way, without a position.
            throw new FormatException($"{path}: not valid YAML (the document ends inside a collection or scalar: {e.Message})", e);
        }
        if (yaml.Documents.Count > 0) Flatten(yaml.Documents[0].RootNode, "", data);
        Data = data;
    }

    private void Flatten(YamlNode node, string prefix, IDictionary<string, string?> data)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                        throw new FormatException($"{path} line {key.Start.Line}: mapping keys must be plain scalars");
                    Flatten(value, prefix.Length == 0 ? name : $"{prefix}:{name}", data);
                }
                break;
            case YamlSequenceNode list:
                for (int i = 0; i < list.Children.Count; i++) Flatten(list.Children[i], $"{prefix}:{i}", data);
                break;
            case YamlScalarNode scalar:
                if (data.ContainsKey(prefix)) throw new FormatException($"{path} line {scalar.Start.Line}: key '{prefix}' appears twice");
                data[prefix] = scalar.Value is "~" or "null" && scalar.Style == YamlDotNet.Core.ScalarStyle.Plain ? null : scalar.Value;
                break;
        }
    }
}

public static class YamlConfigurationExtensions
{
    /// <summary>Adds a YAML file (later sources — environment, arguments — override it).</summary>
    public static IConfigurationBuilder AddYamlFile(this IConfigurationBuilder builder, string path, bool optional = false) =>
        builder.Add(new YamlConfigurationSource(path, optional));
}
