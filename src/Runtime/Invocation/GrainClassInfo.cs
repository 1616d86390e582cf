using System.Reflection;
using AlignCluster.Runtime.Serialization;

namespace AlignCluster.Runtime.Invocation;

/// <summary>A grain class as the silo needs it: constructor plan, concurrency and placement.</summary>
internal sealed class GrainClassInfo
{
    public GrainClassInfo(Type type, TypeAllowlist allowlist)
    {
        Type = type;
        Reentrant = type.IsDefined(typeof(ReentrantAttribute), inherit: true);
        Placement = type.GetCustomAttribute<PlacementAttribute>(inherit: true)?.PlacementStrategy ?? HashBasedPlacement.Instance;
        var ctors = type.GetConstructors();
        if (ctors.Length != 1)
            throw new NotSupportedException($"Grain class {type.FullName} must have exactly one public constructor (it has {ctors.Length}).");
        Constructor = ctors[0];
        Parameters = Constructor.GetParameters();
        foreach (var p in Parameters)
        {
            if (p.GetCustomAttribute<PersistentStateAttribute>() is null) continue;
            if (!p.ParameterType.IsGenericType || p.ParameterType.GetGenericTypeDefinition() != typeof(IPersistentState<>))
                throw new NotSupportedException($"{type.FullName} constructor parameter '{p.Name}' has [PersistentState] but is not IPersistentState<T>.");
            allowlist.Demand(p.ParameterType.GetGenericArguments()[0], $"{type.FullName} persistent state '{p.Name}'");
        }
    }

    public Type Type { get; }
    public bool Reentrant { get; }
    public PlacementStrategy Placement { get; }
    public ConstructorInfo Constructor { get; }
    public ParameterInfo[] Parameters { get; }
}
