namespace AlignCluster.Runtime;

/// <summary>Why an activation is being deactivated.</summary>
public enum DeactivationReasonCode
{
    /// <summary>No request for longer than the collection age.</summary>
    ActivationIdle,
    /// <summary>The grain called <see cref="Grain.DeactivateOnIdle"/>.</summary>
    ApplicationRequested,
    /// <summary>The silo is shutting down gracefully.</summary>
    ShuttingDown,
    /// <summary>Activation failed (OnActivateAsync or state read threw).</summary>
    ActivationFailed,
    /// <summary>The silo no longer owns the grain (membership changed).</summary>
    DirectoryChanged,
}

/// <summary>The reason passed to <see cref="Grain.OnDeactivateAsync"/>.</summary>
public readonly record struct DeactivationReason(DeactivationReasonCode ReasonCode, string Description, Exception? Exception = null)
{
    public override string ToString() => Exception is null ? $"{ReasonCode}: {Description}" : $"{ReasonCode}: {Description} ({Exception.Message})";
}
