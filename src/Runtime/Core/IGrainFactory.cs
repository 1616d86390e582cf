namespace AlignCluster.Runtime;

/// <summary>Creates location-transparent references to grains. References are cheap, never activate anything by
/// themselves, and may be passed as arguments of grain calls.</summary>
public interface IGrainFactory
{
    /// <summary>A reference to the grain with a string key.</summary>
    TGrainInterface GetGrain<TGrainInterface>(string primaryKey) where TGrainInterface : IGrainWithStringKey;

    /// <summary>A reference to the grain with a Guid key.</summary>
    TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey) where TGrainInterface : IGrainWithGuidKey;

    /// <summary>A reference to the grain with an integer key.</summary>
    TGrainInterface GetGrain<TGrainInterface>(long primaryKey) where TGrainInterface : IGrainWithIntegerKey;
}

/// <summary>A client connected to a cluster: the grain factory of code that runs outside grains.</summary>
public interface IClusterClient : IGrainFactory, IAsyncDisposable
{
    /// <summary>Services the client was built with (may be empty).</summary>
    IServiceProvider ServiceProvider { get; }
}
