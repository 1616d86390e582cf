namespace AlignCluster.Runtime;

/// <summary>Anything with a grain identity: grain references and grain instances (Orleans' IAddressable).</summary>
public interface IAddressable;

/// <summary>Marker for grain interfaces. Every method returns Task, Task&lt;T&gt;, ValueTask or ValueTask&lt;T&gt;.</summary>
public interface IGrain : IAddressable;

/// <summary>A grain addressed by a string key.</summary>
public interface IGrainWithStringKey : IGrain;

/// <summary>A grain addressed by a Guid key (carried in the <see cref="Messaging.GrainId"/> as the "N" format).</summary>
public interface IGrainWithGuidKey : IGrain;

/// <summary>A grain addressed by a 64-bit integer key (carried in the <see cref="Messaging.GrainId"/> in decimal).</summary>
public interface IGrainWithIntegerKey : IGrain;
