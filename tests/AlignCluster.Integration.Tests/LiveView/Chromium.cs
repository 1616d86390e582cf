using System.Diagnostics;

namespace AlignCluster.Integration.Tests.LiveView;

/// <summary>
/// Headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) driven from the command line: the DOM after
/// the page's scripts ran (--dump-dom) and a PNG screenshot of a fixed-size window.
/// </summary>
internal static class Chromium
{
    /// <summary>The browser's path, or null when none is installed.</summary>
    public static string? Path { get; } =
        new[] { "chromium", "chromium-browser" }
            .SelectMany(name =>
                (Environment.GetEnvironmentVariable("PATH") ?? "")
                    .Split(':')
                    .Select(dir => System.IO.Path.Combine(dir, name))
            )
            .FirstOrDefault(File.Exists);

    public const int Width = 1300,
        Height = 1800;

    public static string DumpDom(string url) => Run(url, "--dump-dom").Out;

    public static byte[] Screenshot(string url)
    {
        string file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"aligncluster-shot-{Guid.NewGuid():N}.png");
        try
        {
            Run(url, $"--screenshot={file}", "--hide-scrollbars");
            Assert.True(File.Exists(file), $"chromium wrote no screenshot of {url}");
            return File.ReadAllBytes(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static (string Out, string Err) Run(string url, params string[] args)
    {
        Assert.True(Path is not null, "chromium is not installed (scripts/setup.sh installs Debian's chromium)");
        string profile = Directory.CreateTempSubdirectory("aligncluster-chromium-").FullName;
        var info = new ProcessStartInfo(Path!) { RedirectStandardOutput = true, RedirectStandardError = true };
        // --no-sandbox: tests run as root in CI; --virtual-time-budget: run the page's fetch and drawing before the
        // dump or screenshot (virtual time advances only when the page is idle, so it waits for the network).
        foreach (
            var a in new[]
            {
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                $"--user-data-dir={profile}",
                $"--window-size={Width},{Height}",
                "--force-device-scale-factor=1",
                "--virtual-time-budget=5000",
            }
                .Concat(args)
                .Append(url)
        )
            info.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(120_000))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"chromium did not finish loading {url}");
            }
            Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode} on {url}: {stderr.Result}");
            return (stdout.Result, stderr.Result);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }
}

/// <summary>A fact that needs a browser: skipped, saying why, where chromium is not installed, except in CI
/// (CI=true), whose setup installs it, so there a missing browser fails the test instead of hiding it.</summary>
internal sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Path is null && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = "chromium is not installed: run scripts/setup.sh (it installs Debian's chromium package)";
    }
}
