using System.Collections.Concurrent;
using AlignCluster.Runtime.Activation;
using AlignCluster.Runtime.Invocation;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Serialization;
using AlignCluster.Runtime.Telemetry;

namespace AlignCluster.Runtime;

public sealed partial class SiloRuntime
{
    private enum RunState { Created, Running, Stopping, Stopped }

    private RunState _state = RunState.Created;
    private Timer? _collector;

    internal GrainCallRouter Router { get; private set; } = null!;
    internal IGrainFactory Factory => Router;
    internal GrainInterfaceCatalog Catalog => Router.Catalog;
    internal WireSerializer Serializer => Router.Serializer;
    internal IServiceProvider Services { get; private set; } = null!;
    internal ConcurrentDictionary<GrainId, ActivationData> Activations { get; } = new();
    internal GrainDirectory Directory { get; private set; } = null!;
    internal ReminderService Reminders { get; private set; } = null!;
    internal DeviceLeases Leases { get; } = new();

    private void Initialize()
    {
        Router = new GrainCallRouter(Options, Transport, Membership, this);
        Services = Options.Services ?? EmptyServiceProvider.Instance;
        Directory = new GrainDirectory(Options.GetStore(Options.DirectoryStoreName));
        Reminders = new ReminderService(this, Options.GetStore(Options.ReminderStoreName));
    }

    public partial Task StartAsync(CancellationToken cancellationToken)
    {
        if (_state != RunState.Created) throw new InvalidOperationException($"Silo {Address} was already started.");
        _state = RunState.Running;
        Transport.RegisterHandler(Address, this);
        Membership.Changed += OnMembershipChanged;
        _collector = new Timer(_ => CollectIdle(), null, Options.CollectionQuantum, Options.CollectionQuantum);
        Reminders.Start();
        return Task.CompletedTask;
    }

    public partial async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_state != RunState.Running) return;
        _state = RunState.Stopping;
        StopBackground();
        var reason = new DeactivationReason(DeactivationReasonCode.ShuttingDown, $"silo {Address} is shutting down");
        var deactivations = Activations.Values.Select(a => (Activation: a, Done: a.DeactivateAsync(reason))).ToList();
        var all = Task.WhenAll(deactivations.Select(d => d.Done));
        if (await Task.WhenAny(all, Task.Delay(Options.DeactivationTimeout, cancellationToken)).ConfigureAwait(false) != all)
            foreach (var (activation, _) in deactivations.Where(d => !d.Done.IsCompleted))
            {
                ReportError($"{activation.GrainId} did not deactivate within {Options.DeactivationTimeout} (a turn still running): abandoned, its latest state unwritten", null);
                activation.Abandon();
                await OnActivationGoneAsync(activation).ConfigureAwait(false);
            }
        cancellationToken.ThrowIfCancellationRequested();
        _state = RunState.Stopped;
    }

    public partial void Kill()
    {
        _state = RunState.Stopped;
        StopBackground();
        foreach (var activation in Activations.Values) activation.Abandon();
        Activations.Clear();
    }

    private void StopBackground()
    {
        Membership.Changed -= OnMembershipChanged;
        _collector?.Dispose();
        Reminders.Stop();
    }

    private void OnMembershipChanged(MembershipSnapshot view)
    {
        RuntimeDiagnostics.MembershipChanges.Add(1);
        if (view.StatusOf(Address) == SiloStatus.Dead && _state == RunState.Running)
        {
            // Declared dead by the cluster: stop serving at once (the cluster has re-placed our grains).
            ReportError($"Silo {Address} was declared dead", null);
            Kill();
            return;
        }
        Router.Prune(view);
        _ = Reminders.RefreshAsync();
    }

    private void CollectIdle()
    {
        var reason = new DeactivationReason(DeactivationReasonCode.ActivationIdle, $"idle for longer than {Options.CollectionAge}");
        foreach (var activation in Activations.Values)
            if (activation.IsIdle(Options.CollectionAge)) _ = activation.DeactivateAsync(reason);
    }

    /// <summary>Called by an activation when it is gone: forget it, free its device, drop its directory record.</summary>
    internal async Task OnActivationGoneAsync(ActivationData activation)
    {
        Activations.TryRemove(new KeyValuePair<GrainId, ActivationData>(activation.GrainId, activation));
        if (activation.Device is { } device) Leases.Release(device, activation.GrainId);
        try
        {
            await Directory.UnregisterAsync(activation.GrainId, activation.DirectoryEtag).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ReportError($"Removing the directory record of {activation.GrainId}", e);
        }
    }

    internal void ReportError(string what, Exception? e) =>
        Options.Log($"[{Address}] {what}{(e is null ? "" : $": {e.GetType().Name}: {e.Message}")}");

    /// <summary>Whether the grain's class prefers activation on the silo that handles its first call.</summary>
    internal bool PrefersLocal(GrainId grain) => Catalog.FindClass(grain.Type)?.Placement is PreferLocalPlacement;

    /// <summary>Delivers a reminder tick through the normal call path (activating the grain where needed).</summary>
    internal Task SendReminderTickAsync(GrainId grain, string reminderName, TickStatus status)
    {
        var method = Catalog.FindMethod(typeof(IRemindable).FullName!, nameof(IRemindable.ReceiveReminder))!;
        return Router.CallAsync<object?>(grain, method, [reminderName, status]);
    }
}
