using System.Globalization;
using AlignCluster.Runtime.Activation;
using AlignCluster.Runtime.Invocation;
using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime;

/// <summary>
/// Serving a request: run it on the local activation if there is one; otherwise consult the grain directory —
/// forward to the silo it names, or place the grain (placement director + conditional directory write) and
/// activate it here or forward it to the chosen silo. Any silo can therefore take any call (gateway behaviour);
/// forwarding is limited to <see cref="MaxHops"/> hops.
/// </summary>
public sealed partial class SiloRuntime
{
    private const int MaxHops = 3;
    private const string HopsHeader = "ac-hops";
    private readonly object _activationGate = new();
    private static readonly Dictionary<Type, IPlacementDirector> BuiltInDirectors = new()
    {
        [typeof(HashBasedPlacement)] = new HashBasedPlacementDirector(),
        [typeof(RandomPlacement)] = new RandomPlacementDirector(),
        [typeof(PreferLocalPlacement)] = new PreferLocalPlacementDirector(),
        [typeof(DevicePinnedPlacement)] = new DevicePinnedPlacementDirector(),
    };

    public partial ValueTask<InvocationResponse> HandleAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        // Fast path, the common case: the grain is active here and the request is valid. The caller gets the turn's
        // own task (no state machine in between); a turn the activation bounces is served again by
        // ServeAfterBounceAsync.
        if (_state == RunState.Running && Activations.TryGetValue(request.Target, out var activation))
        {
            var method = Catalog.FindMethod(request.Interface, request.Method);
            if (Refuse(request, Catalog.FindClass(request.Target.Type), method, Catalog) is null)
                return new ValueTask<InvocationResponse>(activation.InvokeAsync(request, method!, cancellationToken, reroute: true));
        }
        return HandleSlowAsync(request, cancellationToken);
    }

    /// <summary>A request bounced by a deactivating activation: once it is gone, serve the request again.</summary>
    internal async Task<InvocationResponse> ServeAfterBounceAsync(ActivationData activation, InvocationRequest request, CancellationToken cancellationToken)
    {
        await activation.Deactivated.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await HandleSlowAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<InvocationResponse> HandleSlowAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await ServeAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Runtime failures (placement impossible, store unreachable) go back to the caller as errors.
            return InvocationResponse.Error(request.CorrelationId, e.GetType().FullName!, $"Silo {Address} could not serve {request.Interface}.{request.Method} on {request.Target}: {e.Message}");
        }
    }

    private async ValueTask<InvocationResponse> ServeAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        if (_state != RunState.Running)
            return InvocationResponse.Rejected(request.CorrelationId, RejectionReasons.ShuttingDown, $"silo {Address} is not running");
        var grainClass = Catalog.FindClass(request.Target.Type);
        var method = Catalog.FindMethod(request.Interface, request.Method);
        if (Refuse(request, grainClass, method, Catalog) is { } refusal) return refusal;

        for (int attempt = 0; attempt < 8; attempt++)
        {
            if (Activations.TryGetValue(request.Target, out var activation))
            {
                var response = await activation.InvokeAsync(request, method!, cancellationToken).ConfigureAwait(false);
                if (!ReferenceEquals(response, ActivationData.Bounced)) return response;
                await activation.Deactivated.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (_state != RunState.Running) break;
                continue;
            }
            var routed = await RouteAsync(request, grainClass!, cancellationToken).ConfigureAwait(false);
            if (routed is not null) return routed;
        }
        return InvocationResponse.Rejected(request.CorrelationId, _state == RunState.Running ? RejectionReasons.NotHere : RejectionReasons.ShuttingDown,
            $"silo {Address} could not settle an activation of {request.Target}");
    }

    // Only registered grain interfaces, methods and grain types are served; argument counts must match.
    private static InvocationResponse? Refuse(InvocationRequest request, GrainClassInfo? grainClass, GrainMethod? method, GrainInterfaceCatalog catalog)
    {
        string? why =
            method is null ? $"method {request.Interface}.{request.Method} is not part of a registered grain interface"
            : grainClass is null ? catalog.WhyNoClass(request.Target.Type)
            : !method.Interface.IsAssignableFrom(grainClass.Type) ? $"{grainClass.Type.FullName} does not implement {request.Interface}"
            : request.Arguments.Length != method.ArgumentTypes.Length ? $"{method} takes {method.ArgumentTypes.Length} arguments, the request has {request.Arguments.Length}"
            : null;
        return why is null ? null : InvocationResponse.Error(request.CorrelationId, typeof(NotSupportedException).FullName!, $"Refused call to {request.Target}: {why}.");
    }

    /// <summary>For a grain without a local activation: a response (forwarded, refused), or null once an activation
    /// was created here (the caller then runs the request on it).</summary>
    private async Task<InvocationResponse?> RouteAsync(InvocationRequest request, GrainClassInfo grainClass, CancellationToken cancellationToken)
    {
        HashSet<SiloAddress>? refused = null;
        for (int attempt = 0; attempt < 6; attempt++)
        {
            var entry = await Directory.ReadAsync(request.Target, cancellationToken).ConfigureAwait(false);
            var view = Membership.Current;
            SiloAddress host;
            InvocationResponse? response;
            if (entry is not null && view.IsActive(entry.Silo) && refused?.Contains(entry.Silo) != true)
            {
                host = entry.Silo;
                if (host == Address) response = TryActivateHere(request, grainClass, entry.Etag, view);
                else response = await ForwardAsync(host, request, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var context = new PlacementContext(Address, view, grainClass.Placement, refused);
                host = await Director(grainClass.Placement)
                    .OnAddActivation(grainClass.Placement, new PlacementTarget(request.Target, request.Interface), context).ConfigureAwait(false);
                var etag = await Directory.TryRegisterAsync(request.Target, host, entry?.Etag, cancellationToken).ConfigureAwait(false);
                if (etag is null) continue; // another silo placed it first: follow its record
                if (host == Address) response = TryActivateHere(request, grainClass, etag, view);
                else response = await ForwardAsync(host, request, cancellationToken).ConfigureAwait(false);
            }
            // The silo that placed a forwarded request chooses again, not the silo it was forwarded to.
            if (response is { Status: InvocationStatus.Rejected, ErrorType: RejectionReasons.NoFreeDevice } && !request.Headers.ContainsKey(HopsHeader))
            {
                (refused ??= []).Add(host);
                continue;
            }
            return response;
        }
        return InvocationResponse.Rejected(request.CorrelationId, RejectionReasons.NotHere, $"could not place {request.Target}");
    }

    private InvocationResponse? TryActivateHere(InvocationRequest request, GrainClassInfo grainClass, string directoryEtag, MembershipSnapshot view)
    {
        var grain = request.Target;
        DeviceInfo? device = null;
        lock (_activationGate)
        {
            if (_state != RunState.Running)
                return InvocationResponse.Rejected(request.CorrelationId, RejectionReasons.ShuttingDown, $"silo {Address} is not running");
            if (Activations.ContainsKey(grain)) return null;
            if (grainClass.Placement is DevicePinnedPlacement pinned)
            {
                var kind = DeviceLeases.ResolveKind(pinned, view);
                var mine = view.Silos.FirstOrDefault(s => s.Address == Address)?.Devices ?? [];
                device = Leases.TryAcquire(grain, kind, mine);
                if (device is null)
                {
                    _ = Directory.UnregisterAsync(grain, directoryEtag);
                    return InvocationResponse.Rejected(request.CorrelationId, RejectionReasons.NoFreeDevice, $"silo {Address} has no free {kind} device for {grain}");
                }
            }
            var activation = new ActivationData(this, grain, grainClass, directoryEtag, device);
            Activations[grain] = activation;
            activation.Start();
        }
        return null;
    }

    private async Task<InvocationResponse> ForwardAsync(SiloAddress host, InvocationRequest request, CancellationToken cancellationToken)
    {
        int hops = request.Headers.TryGetValue(HopsHeader, out var h) ? int.Parse(h, CultureInfo.InvariantCulture) : 0;
        if (hops >= MaxHops)
            return InvocationResponse.Rejected(request.CorrelationId, RejectionReasons.HopLimit, $"{request.Target} was forwarded {hops} times");
        var headers = new Dictionary<string, string>(request.Headers) { [HopsHeader] = (hops + 1).ToString(CultureInfo.InvariantCulture) };
        try
        {
            return await Transport.SendAsync(host, request with { Headers = headers }, cancellationToken).ConfigureAwait(false);
        }
        catch (SiloUnavailableException e)
        {
            return InvocationResponse.Error(request.CorrelationId, typeof(SiloUnavailableException).FullName!, e.Message);
        }
    }

    private IPlacementDirector Director(PlacementStrategy strategy) =>
        Options.Directors.GetValueOrDefault(strategy.GetType()) ?? BuiltInDirectors.GetValueOrDefault(strategy.GetType())
        ?? throw new InvalidOperationException($"No placement director is registered for {strategy.GetType().Name}: call RuntimeOptions.AddPlacementDirector<{strategy.GetType().Name}>(director).");
}
