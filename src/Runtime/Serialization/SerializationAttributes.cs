namespace AlignCluster.Runtime;

/// <summary>Marks a class, record or struct as a message type that may cross the wire or be stored (Orleans'
/// GenerateSerializer). Its public properties and fields are serialized; their types must be allowed too.
/// <see cref="SerializableAttribute"/> is accepted as well.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Enum, Inherited = false)]
public sealed class GenerateSerializerAttribute : Attribute;

/// <summary>Member order hint kept for Orleans compatibility; the JSON encoding uses member names.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class IdAttribute(uint id) : Attribute
{
    public uint Id { get; } = id;
}

/// <summary>The type is never mutated after construction (Orleans' Immutable); documentation only here.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Parameter | AttributeTargets.ReturnValue)]
public sealed class ImmutableAttribute : Attribute;
