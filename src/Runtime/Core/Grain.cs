namespace AlignCluster.Runtime;

/// <summary>
/// Base class of grain implementations (Orleans' Grain). The runtime creates one instance per activation, injects
/// constructor parameters (services and <see cref="PersistentStateAttribute"/> states), reads persistent state,
/// then calls <see cref="OnActivateAsync"/>. Requests run one at a time (turn-based) unless the class is
/// <see cref="ReentrantAttribute">[Reentrant]</see>; grain code never runs on two threads at once.
/// </summary>
public abstract class Grain : IAddressable
{
    private IActivationServices? _services;

    internal void Attach(IActivationServices services) => _services = services;

    private IActivationServices Services => _services
        ?? throw new InvalidOperationException($"{GetType().Name} is not attached to an activation: grains are created by the runtime, not with 'new'.");

    /// <summary>Identity and location of this activation.</summary>
    public IGrainContext GrainContext => Services.Context;

    /// <summary>Factory for references to other grains.</summary>
    protected IGrainFactory GrainFactory => Services.GrainFactory;

    /// <summary>The silo's services.</summary>
    protected IServiceProvider ServiceProvider => Services.Services;

    /// <summary>Called after state is read and before the first request.</summary>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Called before the activation is dropped (idle, requested, shutdown). Not called when the silo dies.</summary>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deactivate this activation once the current request completes.</summary>
    protected void DeactivateOnIdle() => Services.DeactivateOnIdle();

    /// <summary>Keep the activation alive for at least this long, whatever the collection age.</summary>
    protected void DelayDeactivation(TimeSpan timeSpan) => Services.DelayDeactivation(timeSpan);

    /// <summary>Legacy grain timer (Orleans' RegisterTimer): ticks are turns; dispose to stop.</summary>
    protected IDisposable RegisterTimer(Func<object?, Task> asyncCallback, object? state, TimeSpan dueTime, TimeSpan period) =>
        Services.RegisterTimer(_ => asyncCallback(state), new GrainTimerCreationOptions(dueTime, period));

    /// <summary>A grain timer whose callback gets a cancellation token that fires when the timer or activation stops.</summary>
    protected IGrainTimer RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period) =>
        Services.RegisterTimer(callback, new GrainTimerCreationOptions(dueTime, period));

    /// <summary>A grain timer with a state argument and options (interleaving, keep-alive).</summary>
    protected IGrainTimer RegisterGrainTimer<TState>(Func<TState, CancellationToken, Task> callback, TState state, GrainTimerCreationOptions options) =>
        Services.RegisterTimer(ct => callback(state, ct), options);

    /// <summary>Registers or updates a durable reminder; the grain must implement <see cref="IRemindable"/>.</summary>
    protected Task<IGrainReminder> RegisterOrUpdateReminder(string reminderName, TimeSpan dueTime, TimeSpan period) =>
        Services.RegisterOrUpdateReminder(reminderName, dueTime, period);

    /// <summary>Removes a durable reminder.</summary>
    protected Task UnregisterReminder(IGrainReminder reminder) => Services.UnregisterReminder(reminder);

    /// <summary>A reminder of this grain by name, or null.</summary>
    protected Task<IGrainReminder?> GetReminder(string reminderName) => Services.GetReminder(reminderName);

    /// <summary>All reminders of this grain.</summary>
    protected Task<List<IGrainReminder>> GetReminders() => Services.GetReminders();
}
