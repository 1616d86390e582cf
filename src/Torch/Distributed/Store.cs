using System.Runtime.InteropServices;
using static AlignCluster.Torch.Native.NativeMethods;

namespace AlignCluster.Torch.Distributed;

/// <summary>
/// A c10d key-value store through which the ranks of a <see cref="ProcessGroup"/> find each other (rendezvous).
/// Create one per rank with <see cref="Tcp"/> or <see cref="File"/>; a process group keeps its store alive, so the
/// store may be disposed right after the group is created.
/// </summary>
public sealed class Store : SafeHandle
{
    private Store(nint handle, string description) : base(0, ownsHandle: true)
    {
        if (handle == 0) TorchException.ThrowLast();
        SetHandle(handle);
        Description = description;
    }

    /// <summary>Where the store lives, for messages ("tcp://127.0.0.1:29500", "file:///tmp/x").</summary>
    public string Description { get; }

    /// <summary>
    /// A TCP store (c10d::TCPStore). Rank 0 passes <paramref name="isMaster"/> = true and serves
    /// <paramref name="host"/>:<paramref name="port"/> (port 0: any free port, read it back from <see cref="Port"/>);
    /// the other ranks connect to it, retrying for up to <paramref name="timeout"/> (default 5 minutes), which also
    /// bounds every later wait on a key.
    /// </summary>
    public static Store Tcp(string host, int port, int worldSize, bool isMaster, TimeSpan? timeout = null) =>
        new(act_dist_tcp_store(host, port, worldSize, isMaster ? 1 : 0, Milliseconds(timeout)), $"tcp://{host}:{port}");

    /// <summary>
    /// A file store (c10d::FileStore): every rank opens the same <paramref name="path"/> on a file system they share
    /// (the file must not hold another run's keys; it is removed when all <paramref name="worldSize"/> ranks closed
    /// it). Waits on keys give up after <paramref name="timeout"/> (default 5 minutes).
    /// </summary>
    public static Store File(string path, int worldSize, TimeSpan? timeout = null) =>
        new(act_dist_file_store(path, worldSize, Milliseconds(timeout)), "file://" + path);

    /// <summary>The port a TCP store serves or connects to (the chosen one when created with port 0).</summary>
    public int Port
    {
        get
        {
            var port = act_dist_store_port(this);
            if (port < 0) TorchException.ThrowLast();
            return port;
        }
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == 0;

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        act_dist_store_free(handle);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => Description;

    internal static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    internal static long Milliseconds(TimeSpan? timeout)
    {
        var t = timeout ?? DefaultTimeout;
        if (t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), t, "timeout must be positive");
        return (long)Math.Ceiling(t.TotalMilliseconds);
    }
}
