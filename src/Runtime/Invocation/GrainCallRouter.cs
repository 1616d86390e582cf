using System.Collections.Concurrent;
using System.Diagnostics;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Serialization;
using AlignCluster.Runtime.Telemetry;

namespace AlignCluster.Runtime.Invocation;

/// <summary>
/// The caller side of grain calls, shared by clients and silos: makes references, encodes calls, starts the client
/// span, enforces the per-call timeout and routes the request — to the cached activation silo, else to the grain's
/// owner on the hash ring (which resolves the directory and forwards). Rejected responses (grain moved, silo
/// stopping) are retried with a fresh view; a call that may have run is never retried (at-most-once).
/// </summary>
internal sealed class GrainCallRouter : IGrainFactory, IGrainReferenceFactory
{
    private const int MaxAttempts = 12;
    private static long s_nextCorrelationId;
    private readonly ISiloTransport _transport;
    private readonly IMembershipView _membership;
    private readonly SiloRuntime? _localSilo;
    private readonly ConcurrentDictionary<GrainId, SiloAddress> _locations = new();

    public GrainCallRouter(RuntimeOptions options, ISiloTransport transport, IMembershipView membership, SiloRuntime? localSilo)
    {
        _transport = transport;
        _membership = membership;
        _localSilo = localSilo;
        var allowlist = new TypeAllowlist(options.MessageTypes);
        Serializer = new WireSerializer(allowlist, this);
        Catalog = new GrainInterfaceCatalog(options, allowlist);
    }

    public GrainInterfaceCatalog Catalog { get; }
    public WireSerializer Serializer { get; }

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey) where TGrainInterface : IGrainWithStringKey => Get<TGrainInterface>(primaryKey);
    public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey) where TGrainInterface : IGrainWithGuidKey => Get<TGrainInterface>(primaryKey.ToString("N"));
    public TGrainInterface GetGrain<TGrainInterface>(long primaryKey) where TGrainInterface : IGrainWithIntegerKey =>
        Get<TGrainInterface>(primaryKey.ToString(System.Globalization.CultureInfo.InvariantCulture));

    internal TGrainInterface Get<TGrainInterface>(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return (TGrainInterface)GetReference(typeof(TGrainInterface), new GrainId(typeof(TGrainInterface).FullName!, key));
    }

    public object GetReference(Type grainInterface, GrainId grainId)
    {
        Catalog.DemandInterface(grainInterface);
        return GrainReferenceProxy.Create(this, grainInterface, grainId);
    }

    /// <summary>One call from a proxy: encode, span, timeout, route, decode.</summary>
    public async Task<T> CallAsync<T>(GrainId target, GrainMethod method, object?[] args)
    {
        var cancellation = method.CancellationTokenIndex >= 0 ? (CancellationToken)args[method.CancellationTokenIndex]! : default;
        cancellation.ThrowIfCancellationRequested();
        var buffers = new ReadOnlyMemory<byte>[method.ArgumentIndexes.Length];
        for (int i = 0; i < buffers.Length; i++)
            buffers[i] = Serializer.Serialize(args[method.ArgumentIndexes[i]], method.ArgumentTypes[i]);

        long started = Stopwatch.GetTimestamp();
        using var span = TraceContext.StartClientSpan(method, target);
        bool bounded = method.Timeout != Timeout.InfiniteTimeSpan;
        var request = new InvocationRequest
        {
            CorrelationId = Interlocked.Increment(ref s_nextCorrelationId),
            Target = target,
            Interface = method.InterfaceName,
            Method = method.Name,
            Arguments = buffers,
            Headers = TraceContext.Inject(Activity.Current),
            DeadlineUtc = bounded ? DateTime.UtcNow + method.Timeout : null,
        };
        using var timeout = bounded || cancellation.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellation) : null;
        if (bounded) timeout!.CancelAfter(method.Timeout);
        string outcome = "ok";
        try
        {
            var response = await SendAsync(request, timeout?.Token ?? default).ConfigureAwait(false);
            return Complete<T>(response, method, target);
        }
        // The callee cancels itself at the same deadline, so its OperationCanceledException can arrive before this
        // side's timer fires (seen under load): past the deadline, either way it is a timeout.
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested
            && (timeout is { IsCancellationRequested: true } || request.DeadlineUtc is { } deadline && DateTime.UtcNow >= deadline))
        {
            outcome = "timeout";
            throw new TimeoutException($"Call {method.InterfaceName}.{method.Name} on grain {target} timed out after {method.Timeout} without a response.");
        }
        catch (OperationCanceledException)
        {
            outcome = "cancelled";
            throw;
        }
        catch (Exception e)
        {
            outcome = "error";
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        finally
        {
            if (outcome != "ok") span?.SetTag("aligncluster.outcome", outcome);
            var tags = new TagList(method.MetricTags) { { "outcome", outcome } };
            RuntimeDiagnostics.CallsSent.Add(1, tags);
            RuntimeDiagnostics.CallDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, method.MetricTags);
        }
    }

    private T Complete<T>(InvocationResponse response, GrainMethod method, GrainId target) => response.Status switch
    {
        InvocationStatus.Ok => method.ResultType is null ? default! : (T)Serializer.Deserialize(response.Result, typeof(T), $"{method} result")!,
        InvocationStatus.Error => throw RemoteExceptions.Rebuild(response.ErrorType, response.ErrorMessage, method, target),
        _ => throw new GrainCallException($"{method} on grain {target} could not be delivered: {response.ErrorType}: {response.ErrorMessage}", response.ErrorType),
    };

    /// <summary>Routes a request to the silo that should handle it, retrying rejections with a fresh view.</summary>
    public async ValueTask<InvocationResponse> SendAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            var view = _membership.Current;
            var target = PickSilo(request.Target, view);
            InvocationResponse response;
            try
            {
                response = _localSilo is not null && target == _localSilo.Address
                    ? await _localSilo.HandleAsync(request, cancellationToken).ConfigureAwait(false)
                    : await _transport.SendAsync(target, request, cancellationToken).ConfigureAwait(false);
            }
            catch (SiloUnavailableException)
            {
                _locations.TryRemove(request.Target, out _);
                throw;
            }
            if (response.Status != InvocationStatus.Rejected || attempt == MaxAttempts)
            {
                if (response.ActivationSilo is { } at) _locations[request.Target] = at;
                return response;
            }
            _locations.TryRemove(request.Target, out _);
            await Task.Delay(Math.Min(10 * attempt, 200), cancellationToken).ConfigureAwait(false);
        }
    }

    private SiloAddress PickSilo(GrainId grain, MembershipSnapshot view)
    {
        if (_locations.TryGetValue(grain, out var cached))
        {
            if (view.IsActive(cached)) return cached;
            _locations.TryRemove(grain, out _);
        }
        if (_localSilo is not null && _localSilo.PrefersLocal(grain) && view.IsActive(_localSilo.Address)) return _localSilo.Address;
        return view.Ring.IsEmpty
            ? throw new GrainCallException($"No active silo to call grain {grain}: membership (version {view.Version}) lists none.", "NoActiveSilo")
            : view.Ring.Owner(grain);
    }

    /// <summary>Forgets cached locations on dead silos (called on membership changes).</summary>
    public void Prune(MembershipSnapshot view)
    {
        foreach (var (grain, silo) in _locations)
            if (!view.IsActive(silo)) _locations.TryRemove(grain, out _);
    }
}
