using System.Diagnostics;

namespace AlignCluster.Models.Tests;

/// <summary>Locates test tools installed by scripts/setup.sh and runs node.</summary>
internal static class TestPaths
{
    /// <summary>The checkout's .cache/npm/node_modules, found by walking up from the test binaries; fails loudly when
    /// absent.</summary>
    public static string NodeModules()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, ".cache", "npm", "node_modules");
            if (Directory.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException(
            $".cache/npm not found above {AppContext.BaseDirectory}: run `bash scripts/setup.sh` in the checkout "
                + "to install the npm test tools (gpt-3-encoder, the tokenizer and chat template oracles)."
        );
    }

    /// <summary>Runs <c>node -e script args</c> with <paramref name="stdin"/> and returns stdout; fails with stderr on
    /// a non-zero exit.</summary>
    public static string RunNode(string script, string stdin, params string[] args) =>
        Node(["-e", script, .. args], stdin);

    /// <summary>Runs <c>node scriptFile args</c> (e.g. Oracle/encode.mjs) like <see cref="RunNode"/>.</summary>
    public static string RunNodeFile(string scriptFile, string stdin, params string[] args) =>
        Node([scriptFile, .. args], stdin);

    private static string Node(IEnumerable<string> arguments, string stdin)
    {
        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in arguments)
            psi.ArgumentList.Add(a);
        psi.StandardInputEncoding = new System.Text.UTF8Encoding(false);
        psi.StandardOutputEncoding = System.Text.Encoding.UTF8;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"node failed ({process.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }
}
