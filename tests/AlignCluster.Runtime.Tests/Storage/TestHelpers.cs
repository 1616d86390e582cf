using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AlignCluster.Runtime.Tests.Storage;

internal static class TestBytes
{
    public static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);
}

internal static class Loopback
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it when this returns).</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
