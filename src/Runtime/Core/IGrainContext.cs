using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime;

/// <summary>Where and as what an activation lives.</summary>
public interface IGrainContext
{
    /// <summary>The grain's identity.</summary>
    GrainId GrainId { get; }

    /// <summary>The silo hosting this activation.</summary>
    SiloAddress Silo { get; }

    /// <summary>The device leased to this activation by device-pinned placement; null for other strategies.</summary>
    DeviceInfo? Device { get; }
}
