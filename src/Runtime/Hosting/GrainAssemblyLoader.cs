using System.Reflection;
using System.Runtime.Loader;

namespace AlignCluster.Runtime.Hosting;

/// <summary>
/// Loads grain assemblies named in configuration (grainAssemblies), resolving their dependencies from their own
/// folder (deps.json), so a silo can host grains that were built separately.
/// </summary>
public static class GrainAssemblyLoader
{
    public static Assembly Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"grainAssemblies: {full} does not exist", full);
        var resolver = new AssemblyDependencyResolver(full);
        AssemblyLoadContext.Default.Resolving += (context, name) =>
            resolver.ResolveAssemblyToPath(name) is { } dependency ? context.LoadFromAssemblyPath(dependency) : null;
        return AssemblyLoadContext.Default.LoadFromAssemblyPath(full);
    }
}
