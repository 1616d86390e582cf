using System.Diagnostics;

namespace AlignCluster.Integration.Tests;

/// <summary>The built `aligncluster` client run as a user runs it: a subprocess, its exit code, stdout and
/// stderr.</summary>
internal static class CliProcess
{
    public static (int Code, string Out, string Err) Run(params string[] args) => Run(null, args);

    /// <summary>As <see cref="Run(string[])"/>, with these environment variables set (null: removed).</summary>
    public static (int Code, string Out, string Err) Run(
        IReadOnlyDictionary<string, string?>? environment,
        params string[] args
    )
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                info.Environment.Remove(name);
            else
                info.Environment[name] = value;
        }
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "aligncluster.dll"));
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(180_000))
        {
            process.Kill();
            Assert.Fail($"aligncluster {string.Join(' ', args)} did not finish");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
