using AlignCluster.Grains.Hosting;
using AlignCluster.Runtime;
using AlignCluster.Runtime.Membership;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Transport;

namespace AlignCluster.Client.Cluster;

/// <summary>
/// A client connection to running silos (`--cluster host:port`): gRPC transport authenticated with the cluster key,
/// a membership view polled from the gateways, and a <see cref="IClusterClient"/> routing grain calls over it.
/// </summary>
public sealed class RemoteCluster : IAsyncDisposable
{
    /// <summary>Environment variable holding the cluster key (the silo's convention, docs/operations.md).</summary>
    public const string KeyVariable = "ALIGNCLUSTER_CLUSTER__KEY";

    private readonly TransportClient _transport;
    private readonly GatewayMembershipView _view;

    private RemoteCluster(TransportClient transport, GatewayMembershipView view, IReadOnlyList<string> gateways)
    {
        _transport = transport;
        _view = view;
        Gateways = gateways;
        Client = new ClusterClient(ClusterSetup.ClientOptions(), new GrpcSiloTransport(transport), view);
    }

    public IClusterClient Client { get; }
    public IReadOnlyList<string> Gateways { get; }

    /// <summary>The silos as the gateways last reported them.</summary>
    public MembershipSnapshot Membership => _view.Current;

    /// <summary>
    /// Connects to the first gateway of <paramref name="endpoints"/> that answers. Fails with exit code 3 naming every
    /// address when none is reachable or the key is refused, and with exit code 2 for a malformed address or key.
    /// </summary>
    /// <param name="endpoints">"host:port" values; each may itself be comma-separated.</param>
    /// <param name="keyFile">File holding the key (e.g. CLUSTER_DIR/cluster.key); null = <see cref="KeyVariable"/>.</param>
    public static async Task<RemoteCluster> ConnectAsync(IEnumerable<string> endpoints, string? keyFile, CancellationToken ct = default)
    {
        var gateways = ParseGateways(endpoints);
        var key = LoadKey(keyFile);
        var transport = new TransportClient(key);
        var view = new GatewayMembershipView(transport, gateways);
        try
        {
            await view.StartAsync(TimeSpan.FromSeconds(1), ct);
            if (view.Current.ActiveSilos.Count == 0)
                throw new ClientException($"--cluster {string.Join(",", gateways)}: the cluster has no active silo yet", exitCode: 3);
            return new RemoteCluster(transport, view, gateways);
        }
        catch (Exception e)
        {
            await view.DisposeAsync();
            await transport.DisposeAsync();
            if (e is PeerUnavailableException or ClusterAuthenticationException)
                throw new ClientException($"cannot connect to the cluster at {string.Join(",", gateways)}: {e.Message} " +
                    "(are the silos running, and is the key the cluster's? see --cluster-key-file)", exitCode: 3, e);
            throw;
        }
    }

    /// <summary>Splits and checks "host:port[,host:port…]" values.</summary>
    public static IReadOnlyList<string> ParseGateways(IEnumerable<string> endpoints)
    {
        var gateways = endpoints.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (gateways.Count == 0) throw new ClientException("--cluster: give at least one gateway address host:port");
        foreach (var g in gateways)
        {
            int colon = g.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(g.AsSpan(colon + 1), out int port) || port is < 1 or > 65535)
                throw new ClientException($"--cluster '{g}': expected host:port (e.g. 127.0.0.1:11111)");
        }
        return gateways;
    }

    /// <summary>The key from <paramref name="keyFile"/> (trimmed), else from <see cref="KeyVariable"/>.</summary>
    public static ClusterKey LoadKey(string? keyFile)
    {
        string source;
        string? secret;
        if (keyFile is not null)
        {
            source = $"--cluster-key-file {keyFile}";
            try { secret = File.ReadAllText(keyFile).Trim(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ClientException($"{source}: cannot read the cluster key: {e.Message}");
            }
        }
        else
        {
            source = KeyVariable;
            secret = Environment.GetEnvironmentVariable(KeyVariable)?.Trim();
            if (string.IsNullOrEmpty(secret))
                throw new ClientException($"--cluster needs the cluster key: pass --cluster-key-file PATH (deploy/local/cluster.sh writes CLUSTER_DIR/cluster.key) or set {KeyVariable}");
        }
        try { return new ClusterKey(secret); }
        catch (ArgumentException e) { throw new ClientException($"{source}: {e.Message}"); }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _view.DisposeAsync();
        await _transport.DisposeAsync();
    }
}
