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
        // Timeouts share one token per time window (CallDeadlines); a caller's own token is linked in only when given.
        var deadline = bounded ? CallDeadlines.For(method.Timeout) : default;
        using var linked = bounded && cancellation.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellation, deadline) : null;
        var token = linked?.Token ?? (bounded ? deadline : cancellation);
        string outcome = "ok";
        try
        {
            // The first attempt is awaited here, in this state machine: a local call's first attempt is never complete
            // at once (the turn runs on the activation's scheduler), so a routing layer with its own async method
            // cost a second state-machine box per call.
            var response = await SendOnce(request, token).ConfigureAwait(false);
            if (response.Status == InvocationStatus.Rejected) response = await RetryRejectedAsync(request, response, token).ConfigureAwait(false);
            Remember(target, response);
            return Complete<T>(response, method, target);
        }
        // The callee enforces the exact deadline and may answer "cancelled" before the shared caller token fires.
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested && (deadline.IsCancellationRequested || DateTime.UtcNow >= request.DeadlineUtc))
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
            if (e is SiloUnavailableException) _locations.TryRemove(target, out _);
            outcome = "error";
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        finally
        {
            if (outcome != "ok") span?.SetTag("aligncluster.outcome", outcome);
            // Tags are built only when a listener is on (the TagList copy was a measurable part of an unobserved call).
            if (RuntimeDiagnostics.CallsSent.Enabled) RuntimeDiagnostics.CallsSent.Add(1, new TagList(method.MetricTags) { { "outcome", outcome } });
            if (RuntimeDiagnostics.CallDuration.Enabled)
                RuntimeDiagnostics.CallDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, method.MetricTags);
        }
    }

    private T Complete<T>(InvocationResponse response, GrainMethod method, GrainId target) => response.Status switch
    {
        InvocationStatus.Ok => method.ResultType is null ? default! : (T)Serializer.Deserialize(response.Result, typeof(T), method.ResultSite)!,
        InvocationStatus.Error => throw RemoteExceptions.Rebuild(response.ErrorType, response.ErrorMessage, method, target),
        _ => throw new GrainCallException($"{method} on grain {target} could not be delivered: {response.ErrorType}: {response.ErrorMessage}", response.ErrorType),
    };

    /// <summary>Retries a rejected request (the silo did not run it: grain moved, silo stopping) with a fresh view.</summary>
    private async Task<InvocationResponse> RetryRejectedAsync(InvocationRequest request, InvocationResponse response, CancellationToken cancellationToken)
    {
        for (int attempt = 1; response.Status == InvocationStatus.Rejected && attempt < MaxAttempts; attempt++)
        {
            _locations.TryRemove(request.Target, out _);
            await Task.Delay(Math.Min(10 * attempt, 200), cancellationToken).ConfigureAwait(false);
            response = await SendOnce(request, cancellationToken).ConfigureAwait(false);
        }
        return response;
    }

    private ValueTask<InvocationResponse> SendOnce(InvocationRequest request, CancellationToken cancellationToken)
    {
        SiloAddress target;
        try { target = PickSilo(request.Target, _membership.Current); }
        catch (GrainCallException e) { return ValueTask.FromException<InvocationResponse>(e); }
        return _localSilo is not null && target == _localSilo.Address
            ? _localSilo.HandleAsync(request, cancellationToken)
            : _transport.SendAsync(target, request, cancellationToken);
    }

    // Writes only on a change: under load every call would otherwise take a ConcurrentDictionary bucket lock.
    private void Remember(GrainId grain, InvocationResponse response)
    {
        if (response.ActivationSilo is { } at && !(_locations.TryGetValue(grain, out var known) && known == at)) _locations[grain] = at;
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
