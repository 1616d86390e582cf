using System.Reflection;
using AlignCluster.Runtime.Messaging;

namespace AlignCluster.Runtime.Invocation;

/// <summary>
/// The runtime-generated grain reference: <see cref="DispatchProxy"/> implements the grain interface and turns
/// every call into an invocation through the <see cref="GrainCallRouter"/>. Equal when the grain ids are equal.
/// </summary>
public class GrainReferenceProxy : DispatchProxy, IGrainReference
{
    internal GrainCallRouter Router = null!;

    public GrainId GrainId { get; internal set; }

    public Type InterfaceType { get; internal set; } = null!;

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var method = Router.Catalog.GetMethod(targetMethod!);
        return method.CallAdapter(Router, GrainId, method, args ?? []);
    }

    public override bool Equals(object? obj) => obj is IGrainReference other && other.GrainId == GrainId;

    public override int GetHashCode() => GrainId.GetHashCode();

    public override string ToString() => $"GrainReference:{GrainId}";

    internal static object Create(GrainCallRouter router, Type grainInterface, GrainId id)
    {
        var proxy = (GrainReferenceProxy)DispatchProxy.Create(grainInterface, typeof(GrainReferenceProxy));
        proxy.Router = router;
        proxy.GrainId = id;
        proxy.InterfaceType = grainInterface;
        return proxy;
    }
}
