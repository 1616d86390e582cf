using System.Reflection;
using AlignCluster.Runtime.Invocation;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Telemetry;

namespace AlignCluster.Runtime.Activation;

/// <summary>
/// One activation of a grain on this silo: the grain instance, its persistent states, timers and device lease, and
/// its lifecycle (activate → serve turns → deactivate). Turn scheduling lives in ActivationTurns.cs.
/// </summary>
internal sealed partial class ActivationData : IGrainContext, IActivationServices
{
    private readonly SiloRuntime _silo;
    private readonly GrainClassInfo _class;
    private readonly List<IStateBinding> _states = [];
    private readonly List<GrainTimer> _timers = [];
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource _deactivated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _activationError;
    private Grain? _grain;
    private long _lastUsedTicks = Environment.TickCount64;
    private long _keepAliveUntilTicks;

    public ActivationData(SiloRuntime silo, GrainId grainId, GrainClassInfo grainClass, string directoryEtag, DeviceInfo? device)
    {
        _silo = silo;
        _class = grainClass;
        GrainId = grainId;
        DirectoryEtag = directoryEtag;
        Device = device;
    }

    public GrainId GrainId { get; }
    public SiloAddress Silo => _silo.Address;
    public DeviceInfo? Device { get; }
    public string DirectoryEtag { get; }
    public ActivationScheduler Scheduler { get; } = new();

    /// <summary>Completes when the activation is gone (deactivated, failed, or abandoned).</summary>
    public Task Deactivated => _deactivated.Task;

    IGrainContext IActivationServices.Context => this;
    IGrainFactory IActivationServices.GrainFactory => _silo.GrainFactory;
    IServiceProvider IActivationServices.Services => _silo.Services;

    /// <summary>Runs the activation turn (construct, read state, OnActivateAsync), counted as running since construction
    /// (see <see cref="_running"/>): requests queued before it wait behind it.</summary>
    public void Start() => Dispatch(new Turn(this, ActivateAsync, TurnKind.Lifecycle));

    /// <summary>Runs a request as a turn. With <paramref name="reroute"/> the task never completes with
    /// <see cref="Bounced"/>: a bounced request is served again by the silo.</summary>
    public Task<InvocationResponse> InvokeAsync(InvocationRequest request, GrainMethod method, CancellationToken cancellationToken, bool reroute = false)
    {
        var kind = _class.Reentrant || method.AlwaysInterleave ? TurnKind.Interleave : TurnKind.Exclusive;
        return Enqueue(new RequestTurn(this, request, method, cancellationToken, kind, reroute));
    }

    // A ValueTask: a request that completes synchronously (most do) then allocates no Task for its response.
    private async ValueTask<InvocationResponse> RunRequestAsync(InvocationRequest request, GrainMethod method, CancellationToken cancellationToken)
    {
        if (_activationError is not null) return ActivationFailedResponse();
        using var span = TraceContext.StartServerSpan(method, GrainId, request.Headers);
        CancellationTokenSource? deadline = null;
        try
        {
            var args = new object?[method.ParameterCount];
            for (int i = 0; i < method.ArgumentIndexes.Length; i++)
                args[method.ArgumentIndexes[i]] = _silo.Serializer.Deserialize(request.Arguments[i], method.ArgumentTypes[i], method.ArgumentSites[i]);
            if (method.CancellationTokenIndex >= 0)
            {
                if (request.DeadlineUtc is { } due)
                {
                    deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    deadline.CancelAfter(Max(due - DateTime.UtcNow, TimeSpan.Zero));
                }
                args[method.CancellationTokenIndex] = deadline?.Token ?? cancellationToken;
            }
            var returned = method.Invoker.Invoke(_grain, new Span<object?>(args));
            var result = await method.AwaitResult(returned!, _silo.Serializer);
            RuntimeDiagnostics.CallsServed.Add(1, method.MetricTags);
            return InvocationResponse.Ok(request.CorrelationId, result, _silo.Address);
        }
        catch (Exception thrown)
        {
            var e = RemoteExceptions.Unwrap(thrown);
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            return InvocationResponse.Error(request.CorrelationId, e.GetType().FullName!, e.Message);
        }
        finally
        {
            deadline?.Dispose();
            _lastUsedTicks = Environment.TickCount64;
        }
    }

    private async Task<InvocationResponse> ActivateAsync()
    {
        try
        {
            _grain = Construct();
            _grain.Attach(this);
            foreach (var state in _states) await state.ReadStateAsync(_lifetime.Token);
            await _grain.OnActivateAsync(_lifetime.Token);
            MarkActive();
            RuntimeDiagnostics.Activations.Add(1, new KeyValuePair<string, object?>("grain.type", GrainId.Type));
        }
        catch (Exception e)
        {
            _activationError = RemoteExceptions.Unwrap(e);
            MarkDead();
            await _silo.OnActivationGoneAsync(this).ConfigureAwait(false);
            _deactivated.TrySetResult();
        }
        return Bounced;
    }

    private InvocationResponse ActivationFailedResponse() => InvocationResponse.Error(0, typeof(InvalidOperationException).FullName!,
        $"Activation of grain {GrainId} ({_class.Type.Name}) on silo {Silo} failed: {_activationError!.GetType().Name}: {_activationError.Message}");

    private Grain Construct()
    {
        var args = new object?[_class.Parameters.Length];
        for (int i = 0; i < args.Length; i++)
        {
            var p = _class.Parameters[i];
            if (p.GetCustomAttribute<PersistentStateAttribute>() is { } attribute)
            {
                var stateType = typeof(PersistentStateBinding<>).MakeGenericType(p.ParameterType.GetGenericArguments()[0]);
                var binding = Activator.CreateInstance(stateType, _silo.Options.GetStore(attribute.StorageName), GrainId, attribute.StateName, _silo.Serializer)!;
                _states.Add((IStateBinding)binding);
                args[i] = binding;
            }
            else if (p.ParameterType == typeof(IGrainFactory)) args[i] = _silo.GrainFactory;
            else if (p.ParameterType == typeof(IGrainContext)) args[i] = this;
            else args[i] = _silo.Services.GetService(p.ParameterType) ?? (p.HasDefaultValue ? p.DefaultValue
                : throw new InvalidOperationException($"{_class.Type.FullName} constructor parameter '{p.Name}' of type {p.ParameterType.Name} cannot be resolved: register it in RuntimeOptions.Services or mark it [PersistentState]."));
        }
        return (Grain)_class.Constructor.Invoke(args);
    }

    /// <summary>Deactivates gracefully (as a turn after the running ones); completes when gone.</summary>
    public Task DeactivateAsync(DeactivationReason reason)
    {
        EnqueueDeactivation(new Turn(this, () => RunDeactivationAsync(reason), TurnKind.Lifecycle));
        return Deactivated;
    }

    private async Task<InvocationResponse> RunDeactivationAsync(DeactivationReason reason)
    {
        StopTimers();
        try
        {
            if (_grain is not null && _activationError is null)
            {
                await _grain.OnDeactivateAsync(reason, CancellationToken.None);
                foreach (var state in _states) await state.PersistIfChangedAsync(CancellationToken.None);
            }
        }
        catch (Exception e)
        {
            _silo.ReportError($"Deactivating {GrainId} ({reason.ReasonCode})", e);
        }
        finally
        {
            MarkDead();
            _lifetime.Cancel();
            if (_activationError is null) RuntimeDiagnostics.Activations.Add(-1, new KeyValuePair<string, object?>("grain.type", GrainId.Type));
            await _silo.OnActivationGoneAsync(this).ConfigureAwait(false);
            _deactivated.TrySetResult();
        }
        return Bounced;
    }

    /// <summary>Crash: drop everything without running grain code or persisting.</summary>
    public void Abandon()
    {
        foreach (var waiting in MarkDeadAndTakeWaiting()) waiting.Complete(Bounced);
        StopTimers();
        _lifetime.Cancel();
        _deactivated.TrySetResult();
    }

    /// <summary>True when idle for longer than <paramref name="age"/> and not kept alive.</summary>
    public bool IsIdle(TimeSpan age)
    {
        long now = Environment.TickCount64;
        lock (_gate)
            return _phase == Phase.Active && _running == 0 && _waiting.Count == 0
                && now - Volatile.Read(ref _lastUsedTicks) > (long)age.TotalMilliseconds && now > _keepAliveUntilTicks;
    }

    void IActivationServices.DeactivateOnIdle() =>
        _ = DeactivateAsync(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "DeactivateOnIdle was called"));

    void IActivationServices.DelayDeactivation(TimeSpan timeSpan) =>
        _keepAliveUntilTicks = Environment.TickCount64 + (long)timeSpan.TotalMilliseconds;

    IGrainTimer IActivationServices.RegisterTimer(Func<CancellationToken, Task> callback, GrainTimerCreationOptions options)
    {
        var timer = new GrainTimer(this, callback, options);
        lock (_timers) _timers.Add(timer);
        return timer;
    }

    internal Task<InvocationResponse> EnqueueTimerTick(Func<Task<InvocationResponse>> tick, bool interleave, bool keepAlive)
    {
        if (keepAlive) _lastUsedTicks = Environment.TickCount64;
        return Enqueue(new Turn(this, tick, interleave ? TurnKind.Interleave : TurnKind.Exclusive));
    }

    internal CancellationToken Lifetime => _lifetime.Token;

    internal void ReportTimerError(Exception e) => _silo.ReportError($"Timer of grain {GrainId}", e);

    internal void RemoveTimer(GrainTimer timer)
    {
        lock (_timers) _timers.Remove(timer);
    }

    private void StopTimers()
    {
        GrainTimer[] timers;
        lock (_timers) timers = [.. _timers];
        foreach (var t in timers) t.Dispose();
    }

    Task<IGrainReminder> IActivationServices.RegisterOrUpdateReminder(string reminderName, TimeSpan dueTime, TimeSpan period)
    {
        if (_grain is not IRemindable)
            throw new InvalidOperationException($"{_class.Type.FullName} registers reminder '{reminderName}' but does not implement IRemindable.");
        return _silo.Reminders.RegisterOrUpdateAsync(GrainId, reminderName, dueTime, period);
    }

    Task IActivationServices.UnregisterReminder(IGrainReminder reminder) => _silo.Reminders.UnregisterAsync(GrainId, reminder.ReminderName);
    Task<IGrainReminder?> IActivationServices.GetReminder(string reminderName) => _silo.Reminders.GetAsync(GrainId, reminderName);
    Task<List<IGrainReminder>> IActivationServices.GetReminders() => _silo.Reminders.ListAsync(GrainId);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
