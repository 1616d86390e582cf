using System.Runtime.InteropServices;
using System.Text;

namespace AlignCluster.Grains.Training;

/// <summary>
/// CPU all-reduce through Gloo (Debian's libgloo-dev) and our ~80-line shim (native/gloo_shim.cpp, built by g++ from
/// this project's build): a full-mesh TCP group whose ranks meet through a <see cref="RendezvousStore"/>.
/// </summary>
internal sealed unsafe class GlooGroup : IDisposable
{
    private const string Library = "aligncluster_gloo";
    private IntPtr _group;

    private GlooGroup(IntPtr group) => _group = group;

    /// <summary>Connects every rank to every other; blocks until all <paramref name="size"/> ranks did.</summary>
    public static GlooGroup Connect(
        RendezvousStore store,
        string prefix,
        int rank,
        int size,
        string host,
        TimeSpan timeout
    )
    {
        // The callbacks live as long as this call: Gloo uses the store only while it connects.
        SetFn set = (key, data, length) =>
            store.Set(prefix + Marshal.PtrToStringUTF8(key), new ReadOnlySpan<byte>((void*)data, (int)length));
        GetFn get = (key, buffer, capacity) =>
        {
            try
            {
                var value = store.Get(prefix + Marshal.PtrToStringUTF8(key));
                if (value.Length <= capacity)
                    value.CopyTo(new Span<byte>((void*)buffer, value.Length));
                return value.Length;
            }
            catch (Exception e) when (e is TimeoutException or IOException)
            {
                return -1;
            }
        };
        var group = ac_gloo_connect(rank, size, host, set, get, (long)timeout.TotalMilliseconds);
        GC.KeepAlive(set);
        GC.KeepAlive(get);
        if (group == IntPtr.Zero)
            throw new CollectiveException($"gloo: rank {rank} of {size} could not connect: {LastError()}");
        return new GlooGroup(group);
    }

    /// <summary>Sums <paramref name="count"/> float32 values at <paramref name="data"/> over the ranks, in
    /// place.</summary>
    public void SumFloat32(IntPtr data, long count) => Check(ac_gloo_allreduce_f32(Handle, data, count));

    /// <summary>Sums float64 values over the ranks, in place.</summary>
    public void SumFloat64(Span<double> values)
    {
        fixed (double* p = values)
            Check(ac_gloo_allreduce_f64(Handle, (IntPtr)p, values.Length));
    }

    private IntPtr Handle => _group != IntPtr.Zero ? _group : throw new ObjectDisposedException(nameof(GlooGroup));

    private static void Check(int rc)
    {
        if (rc != 0)
            throw new CollectiveException($"gloo all-reduce failed: {LastError()}");
    }

    private static string LastError() => Marshal.PtrToStringUTF8(ac_gloo_last_error()) ?? "unknown error";

    public void Dispose()
    {
        if (_group != IntPtr.Zero)
            ac_gloo_free(_group);
        _group = IntPtr.Zero;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetFn(IntPtr key, IntPtr data, long length);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate long GetFn(IntPtr key, IntPtr buffer, long capacity);

    [DllImport(Library)]
    private static extern IntPtr ac_gloo_connect(
        int rank,
        int size,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string host,
        SetFn set,
        GetFn get,
        long timeoutMs
    );

    [DllImport(Library)]
    private static extern int ac_gloo_allreduce_f32(IntPtr group, IntPtr data, long count);

    [DllImport(Library)]
    private static extern int ac_gloo_allreduce_f64(IntPtr group, IntPtr data, long count);

    [DllImport(Library)]
    private static extern void ac_gloo_free(IntPtr group);

    [DllImport(Library)]
    private static extern IntPtr ac_gloo_last_error();
}

/// <summary>A collective failed (a peer died, a timeout, NCCL/Gloo refused): the group is unusable.</summary>
public sealed class CollectiveException(string message) : Exception(message);
