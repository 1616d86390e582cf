using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AlignCluster.Grains.Training;

/// <summary>
/// The key-value store through which the replicas of a data-parallel group find each other: Gloo's ranks publish
/// their addresses, NCCL's rank 0 its unique id. Rank 0's trainer serves it (<see cref="Serve"/>); every rank talks to
/// it over one TCP connection (<see cref="Connect"/>). Lines of "SET key value" / "GET key" with base64 keys and
/// values;
/// a GET waits until the key is set. Only the rendezvous goes through it, never tensors.
/// </summary>
public sealed class RendezvousStore : IDisposable
{
    private readonly TcpListener? _listener;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _values = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TcpClient _client;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;
    private readonly TimeSpan _timeout;
    private readonly Lock _lock = new();

    private RendezvousStore(TcpListener? listener, string host, int port, TimeSpan timeout)
    {
        _listener = listener;
        _timeout = timeout;
        if (listener is not null)
            _ = AcceptLoop(listener);
        _client = ConnectWithRetry(host, port, timeout);
        var stream = _client.GetStream();
        _reader = new StreamReader(stream, Encoding.ASCII);
        _writer = new StreamWriter(stream, Encoding.ASCII) { AutoFlush = true, NewLine = "\n" };
        Port = port;
    }

    /// <summary>The port served or connected to.</summary>
    public int Port { get; }

    /// <summary>Serves a store on a free port of <paramref name="host"/> (rank 0) and connects to it.</summary>
    public static RendezvousStore Serve(string host, TimeSpan timeout)
    {
        var listener = new TcpListener(IPAddress.Parse(Resolve(host)), 0);
        listener.Start();
        return new RendezvousStore(listener, host, ((IPEndPoint)listener.LocalEndpoint).Port, timeout);
    }

    /// <summary>Connects to the store rank 0 serves, retrying until <paramref name="timeout"/>.</summary>
    public static RendezvousStore Connect(string host, int port, TimeSpan timeout) => new(null, host, port, timeout);

    public void Set(string key, ReadOnlySpan<byte> value) => Call($"SET {Encode(key)} {Convert.ToBase64String(value)}");

    /// <summary>The value of <paramref name="key"/>, waiting until some rank sets it (at most the store's
    /// timeout).</summary>
    public byte[] Get(string key) => Convert.FromBase64String(Call($"GET {Encode(key)}"));

    private string Call(string request)
    {
        lock (_lock)
        {
            _writer.WriteLine(request);
            string reply = _reader.ReadLine() ?? throw new IOException("rendezvous store closed the connection");
            if (reply.StartsWith("ERR ", StringComparison.Ordinal))
                throw new TimeoutException($"rendezvous store: {reply[4..]}");
            return reply.Length > 3 ? reply[3..] : ""; // "OK " + value
        }
    }

    private static string Encode(string key) => Convert.ToBase64String(Encoding.UTF8.GetBytes(key));

    private static string Resolve(string host) =>
        IPAddress.TryParse(host, out _)
            ? host
            : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork).ToString();

    private static TcpClient ConnectWithRetry(string host, int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var client = new TcpClient { NoDelay = true };
            try
            {
                client.Connect(host, port);
                return client;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                client.Dispose();
                Thread.Sleep(100);
            }
            catch (SocketException e)
            {
                client.Dispose();
                throw new TimeoutException($"rendezvous store {host}:{port} unreachable for {timeout}: {e.Message}", e);
            }
        }
    }

    private async Task AcceptLoop(TcpListener listener)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(_stop.Token);
                _ = Serve(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        { /* stopped */
        }
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.ASCII);
                await using var writer = new StreamWriter(stream, Encoding.ASCII) { AutoFlush = true, NewLine = "\n" };
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    var parts = line.Split(' ');
                    var slot = _values.GetOrAdd(parts[1], _ => new TaskCompletionSource<string>(
                        TaskCreationOptions.RunContinuationsAsynchronously
                    ));
                    if (parts[0] == "SET")
                    {
                        slot.TrySetResult(parts.Length > 2 ? parts[2] : "");
                        await writer.WriteLineAsync("OK");
                        continue;
                    }
                    try
                    {
                        await writer.WriteLineAsync("OK " + await slot.Task.WaitAsync(_timeout, _stop.Token));
                    }
                    catch (TimeoutException)
                    {
                        await writer.WriteLineAsync($"ERR no rank set the key within {_timeout}");
                    }
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            { /* peer gone */
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _client.Dispose();
        _listener?.Stop();
    }
}
