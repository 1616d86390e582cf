namespace AlignCluster.Runtime.Tests.Net;

/// <summary>Finds the checkout's root (and the npm tools scripts/setup.sh installs) by walking up from the test binaries.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AlignCluster.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no AlignCluster.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>.cache/npm/node_modules, checked to contain <paramref name="package"/>.</summary>
    public static string NodeModules(string package)
    {
        var modules = Path.Combine(Root, ".cache", "npm", "node_modules");
        if (!Directory.Exists(Path.Combine(modules, package)))
            throw new InvalidOperationException(
                $"npm package {package} is missing under {modules}: run `bash scripts/setup.sh` in the checkout first");
        return modules;
    }

    public static string TransportProto => Path.Combine(Root, "src", "Runtime", "Protos", "transport.proto");
}
