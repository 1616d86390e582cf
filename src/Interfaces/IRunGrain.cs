namespace AlignCluster.Interfaces;

/// <summary>Marker base of the cluster's grain interfaces: all are addressed by a string key.</summary>
public interface IRunGrain
{
}
