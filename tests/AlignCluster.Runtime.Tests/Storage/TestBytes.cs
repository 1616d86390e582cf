using System.Text;

namespace AlignCluster.Runtime.Tests.Storage;

internal static class TestBytes
{
    public static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);
}
