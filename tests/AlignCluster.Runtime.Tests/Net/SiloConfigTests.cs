using AlignCluster.Runtime.Hosting;
using AlignCluster.Runtime.Messaging;
using Microsoft.Extensions.Configuration;

namespace AlignCluster.Runtime.Tests.Net;

public sealed class SiloConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aligncluster-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteYaml(string text)
    {
        var path = Path.Combine(_dir, "silo.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    private const string Yaml = """
        cluster:
          id: prod
          key: yaml-key-0123456789abcdef
        network:
          port: 12000
        storage:
          default: local:/var/lib/aligncluster
        membership:
          probeInterval: 00:00:02
          numVotesForDeathDeclaration: 3
        devices:
          - id: cuda:0
            kind: cuda
            memoryBytes: 80000000000
          - id: cuda:1
            kind: cuda
        grainAssemblies: [a.dll, b.dll]
        """;

    [Fact]
    public void Yaml_then_environment_then_arguments_each_override_the_one_before()
    {
        var path = WriteYaml(Yaml);
        var env = new Dictionary<string, string?> { ["network:port"] = "13000", ["cluster:id"] = "from-env" };   // what ALIGNCLUSTER_NETWORK__PORT becomes
        var config = new ConfigurationBuilder().AddYamlFile(path).AddInMemoryCollection(env)
            .AddCommandLine(["--network:port=14000"]).Build().Get<SiloConfig>()!;
        Assert.Equal(14000, config.Network.Port);                 // argument beats environment and YAML
        Assert.Equal("from-env", config.Cluster.Id);              // environment beats YAML
        Assert.Equal("yaml-key-0123456789abcdef", config.Cluster.Key);
        Assert.Equal("127.0.0.1", config.Network.Host);           // loopback unless configured
        Assert.Equal(TimeSpan.FromSeconds(2), config.Membership.ProbeInterval);
        Assert.Equal(3, config.Membership.NumVotesForDeathDeclaration);
        Assert.Equal(new[] { new DeviceInfo("cuda:0", "cuda", 80_000_000_000), new DeviceInfo("cuda:1", "cuda") }, config.Devices);
        Assert.Equal(new[] { "a.dll", "b.dll" }, config.GrainAssemblies);
        config.Validate();
        Assert.Equal("from-env", config.Membership.ClusterId);   // the table is keyed by the cluster id
    }

    [Fact]
    public void Environment_variables_use_the_ALIGNCLUSTER_prefix_and_double_underscores()
    {
        Environment.SetEnvironmentVariable("ALIGNCLUSTER_TESTONLY__NETWORK__GATEWAYPORT", "30000");
        try
        {
            var section = new ConfigurationBuilder().AddEnvironmentVariables("ALIGNCLUSTER_").Build().GetSection("testonly");
            Assert.Equal(30000, section.Get<SiloConfig>()!.Network.GatewayPort);
        }
        finally { Environment.SetEnvironmentVariable("ALIGNCLUSTER_TESTONLY__NETWORK__GATEWAYPORT", null); }
    }

    [Fact]
    public void A_yaml_syntax_error_names_the_file_and_line()
    {
        var path = WriteYaml("cluster:\n  id: x\n key: y\nnetwork:\n  port: 1\n");   // "key" is mis-indented
        var error = Assert.Throws<FormatException>(() => new ConfigurationBuilder().AddYamlFile(path).Build());
        Assert.Contains(path, error.Message);
        Assert.Matches(@"line \d+", error.Message);
    }

    [Fact]
    public void A_missing_cluster_key_and_an_open_bind_without_advertised_host_are_refused_with_the_setting_named()
    {
        var noKey = new SiloConfig();
        Assert.Contains("cluster:key", Assert.Throws<InvalidOperationException>(noKey.Validate).Message);
        var open = new SiloConfig { Cluster = { Key = "k-0123456789abcdef" }, Network = { Host = "0.0.0.0" } };
        Assert.Contains("network:advertisedHost", Assert.Throws<InvalidOperationException>(open.Validate).Message);
    }

    [Fact]
    public void Devices_come_from_configuration_else_the_detector_else_cpu()
    {
        DeviceInfo[] gpus = [new("cuda:0", "cuda")];
        Assert.Equal(gpus, DeviceDetection.Resolve(gpus, () => throw new InvalidOperationException("not called"), 1));
        Assert.Equal(gpus, DeviceDetection.Resolve([], () => gpus, 1));
        Assert.Equal(new[] { new DeviceInfo("cpu:0", "cpu"), new DeviceInfo("cpu:1", "cpu") }, DeviceDetection.Resolve([], () => [], 2));
        Assert.Contains("listed twice", Assert.Throws<InvalidOperationException>(() =>
            DeviceDetection.Resolve([new("cpu:0", "cpu"), new("cpu:0", "cpu")], null, 1)).Message);
    }

    /// <summary>What an operator sees when a silo cannot start: one line saying why, exit code 2, no stack trace (the
    /// host's own "Hosting failed to start" log entry printed one before the line).</summary>
    [Fact]
    public void A_silo_without_a_cluster_key_says_so_in_one_line_and_exits_2()
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        info.ArgumentList.Add(LocalClusterProcess.SiloDll());
        info.ArgumentList.Add("--network:port=1");   // never bound: the key is checked first
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("ALIGNCLUSTER_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(name);
        using var silo = System.Diagnostics.Process.Start(info)!;
        var stdout = silo.StandardOutput.ReadToEndAsync();
        var stderr = silo.StandardError.ReadToEndAsync();
        Assert.True(silo.WaitForExit(60_000), "the silo did not exit");
        string output = stdout.Result + stderr.Result;
        Assert.Equal(2, silo.ExitCode);
        Assert.Contains("silo: cannot start: cluster:key is not set", stderr.Result);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Hosting failed to start", output);
    }
}
