using System.Runtime.InteropServices;

/// <summary>One line describing the machine a benchmark ran on.</summary>
internal static class BenchHardware
{
    public static string Describe()
    {
        string cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException) { }
        return $"{cpu}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, " +
               $"server GC {System.Runtime.GCSettings.IsServerGC}";
    }
}
