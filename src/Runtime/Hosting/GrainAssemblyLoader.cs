using System.Reflection;
using System.Runtime.Loader;

namespace AlignCluster.Runtime.Hosting;

/// <summary>
/// Loads grain assemblies named in configuration (grainAssemblies), resolving their dependencies from their own
/// folder (deps.json), so a silo can host grains that were built separately.
/// </summary>
public static class GrainAssemblyLoader
{
    /// <summary>
    /// Loads <paramref name="paths"/> and registers their grains: every grain class and interface, or only the
    /// classes named in <paramref name="classNames"/> (full names) when that list is not empty.
    /// </summary>
    public static void Register(RuntimeOptions options, IReadOnlyList<string> paths, IReadOnlyList<string> classNames)
    {
        var assemblies = paths.Select(Load).ToList();
        if (classNames.Count == 0)
        {
            foreach (var assembly in assemblies) options.AddAssembly(assembly);
            return;
        }
        foreach (var name in classNames)
        {
            var type = assemblies.Select(a => a.GetType(name, throwOnError: false)).FirstOrDefault(t => t is not null)
                ?? throw new InvalidOperationException($"grainClasses: {name} is not a type in grainAssemblies ({string.Join(", ", paths)})");
            options.AddGrain(type);
        }
    }

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
