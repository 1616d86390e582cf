using System.Net;
using System.Net.Sockets;

namespace AlignCluster.Tests.Shared;

/// <summary>
/// Free loopback ports for the local clusters that deploy/local/cluster.sh starts in tests (compiled into each test
/// project that needs it). The script puts silo i on BASE_PORT+i, its gateway on BASE_PORT+100+i and Azurite (blob,
/// queue, table) on BASE_PORT−1000 … BASE_PORT−998.
/// </summary>
internal static class LoopbackPorts
{
    /// <summary>A base port with its silo, gateway and Azurite ports free right now.</summary>
    public static int FindFreeBasePort(int width)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            int candidate = Random.Shared.Next(31000, 60000);
            var ports = Enumerable
                .Range(candidate, width)
                .Concat(Enumerable.Range(candidate + 100, width))
                .Concat(Enumerable.Range(candidate - 1000, 3));
            if (ports.All(IsFree))
                return candidate;
        }
        throw new InvalidOperationException("no free port range found for the local cluster");
    }

    /// <summary>A loopback port the OS reports free right now (for silos a test hosts in its own process).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
