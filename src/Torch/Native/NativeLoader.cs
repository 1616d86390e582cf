using System.Reflection;
using System.Runtime.InteropServices;

namespace AlignCluster.Torch.Native;

/// <summary>
/// Loads libaligncluster_torch.so and configures libtorch once per process: finds the library beside this
/// assembly (also when a test host or another application runs from a different directory) and sets the
/// intra-op thread count (libtorch defaults to 1 here) to ALIGNCLUSTER_THREADS or the number of cores.
/// </summary>
internal static class NativeLoader
{
    internal const string ThreadsVariable = "ALIGNCLUSTER_THREADS";
    private static int initialized;

    internal static void Initialize()
    {
        if (Interlocked.Exchange(ref initialized, 1) != 0) return;
        NativeLibrary.SetDllImportResolver(typeof(NativeLoader).Assembly, Resolve);
        NativeMethods.Check(NativeMethods.act_set_num_threads(ThreadsFromEnvironment()));
    }

    internal static int ThreadsFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(ThreadsVariable);
        if (string.IsNullOrWhiteSpace(text)) return Environment.ProcessorCount;
        if (int.TryParse(text, out var n) && n > 0) return n;
        throw new TorchException($"{ThreadsVariable}='{text}' is not a positive integer thread count");
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != NativeMethods.Library) return 0;
        var directory = Path.GetDirectoryName(assembly.Location);
        foreach (var candidate in new[] { directory, AppContext.BaseDirectory })
        {
            if (string.IsNullOrEmpty(candidate)) continue;
            var path = Path.Combine(candidate, "lib" + name + ".so");
            if (File.Exists(path)) return NativeLibrary.Load(path);
        }
        return 0; // fall back to the default probing (LD_LIBRARY_PATH, system directories)
    }
}
