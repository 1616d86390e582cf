using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;

namespace AlignCluster.Hosting.Placement;

/// <summary>
/// Ties a device lease to the activation that holds it: each activation of a <see cref="DevicePlacement"/> grain
/// takes over its grain's reservation when Orleans creates it (before the directory registration, the grain's
/// constructor and OnActivateAsync) and frees whatever it still holds when it ends. Without this, an activation that
/// ended without running OnDeactivateAsync (it failed to activate, lost a duplicate-activation race, or was
/// deactivated while activating) left its device reserved until the reservation lapsed, or confirmed for good.
/// </summary>
internal sealed class DeviceActivations(IServiceProvider services)
    : IConfigureGrainContextProvider,
        IConfigureGrainContext
{
    // Resolved at the first activation, not when Orleans builds its activators at silo start (the leases depend on
    // the grain context accessor, part of that start).
    private DeviceLeases Leases => field ??= services.GetRequiredService<DeviceLeases>();

    public bool TryGetConfigurator(
        GrainType grainType,
        GrainProperties properties,
        [NotNullWhen(true)] out IConfigureGrainContext? configurator
    )
    {
        bool pinned =
            properties.Properties.TryGetValue(WellKnownGrainTypeProperties.PlacementStrategy, out string? strategy)
            && strategy == nameof(DevicePlacement);
        configurator = pinned ? this : null;
        return pinned;
    }

    public void Configure(IGrainContext context)
    {
        (GrainId grain, ActivationId activation) = (context.GrainId, context.ActivationId);
        DeviceLeases leases = Leases;
        leases.OnActivationCreated(grain, activation);
        // Completes once the activation is gone, however it ended (also when it never became valid).
        context.Deactivated.ContinueWith(
            _ => leases.OnActivationEnded(grain, activation),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default
        );
    }
}
