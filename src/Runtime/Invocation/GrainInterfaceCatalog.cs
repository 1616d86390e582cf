using System.Collections.Frozen;
using System.Reflection;
using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Serialization;

namespace AlignCluster.Runtime.Invocation;

/// <summary>
/// The registered grain interfaces and classes, validated once: every method has a supported return type, no
/// overloads, and only allowlisted argument and result types. Lookups by MethodInfo (caller side), by
/// interface + method name (callee side) and from grain type to grain class (silos).
/// </summary>
internal sealed class GrainInterfaceCatalog
{
    private readonly FrozenDictionary<MethodInfo, GrainMethod> _byMethodInfo;
    private readonly FrozenDictionary<string, FrozenDictionary<string, GrainMethod>> _byName;
    private readonly FrozenDictionary<string, Type> _interfaces;
    private readonly FrozenDictionary<string, GrainClassInfo> _classes;
    private readonly FrozenDictionary<string, string> _ambiguous;

    public GrainInterfaceCatalog(RuntimeOptions options, TypeAllowlist allowlist)
    {
        var interfaces = options.GrainInterfaces.Append(typeof(IRemindable))
            .SelectMany(i => i.GetInterfaces().Prepend(i)).Where(RuntimeOptions.IsGrainInterface).Distinct().ToList();
        var methods = new List<GrainMethod>();
        foreach (var iface in interfaces)
        {
            var declared = iface.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly);
            if (declared.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1) is { } overload)
                throw new NotSupportedException($"{iface.FullName} overloads method '{overload.Key}'; grain interface methods must have distinct names.");
            foreach (var m in declared)
            {
                var gm = new GrainMethod(m, options.ResponseTimeout);
                for (int i = 0; i < gm.ArgumentTypes.Length; i++)
                    allowlist.Demand(gm.ArgumentTypes[i], $"{gm} parameter '{gm.ArgumentNames[i]}'");
                if (gm.ResultType is { } rt) allowlist.Demand(rt, $"{gm} result");
                gm.CallAdapter = MakeAdapter(gm);
                gm.ResultAwaiter = MakeAwaiter(gm);
                methods.Add(gm);
            }
        }
        _byMethodInfo = methods.ToFrozenDictionary(m => m.Method);
        _byName = methods.GroupBy(m => m.InterfaceName)
            .ToFrozenDictionary(g => g.Key, g => g.ToFrozenDictionary(m => m.Name, StringComparer.Ordinal), StringComparer.Ordinal);
        _interfaces = interfaces.ToFrozenDictionary(i => i.FullName!, StringComparer.Ordinal);

        // A grain interface implemented by several classes (e.g. a shared base interface) cannot address a grain.
        var implementations = options.GrainClasses.Select(c => new GrainClassInfo(c, allowlist))
            .SelectMany(info => info.Type.GetInterfaces().Where(RuntimeOptions.IsGrainInterface).Where(i => i != typeof(IRemindable)).Select(i => (Interface: i.FullName!, info)))
            .GroupBy(x => x.Interface, StringComparer.Ordinal).ToList();
        _classes = implementations.Where(g => g.Count() == 1).ToFrozenDictionary(g => g.Key, g => g.Single().info, StringComparer.Ordinal);
        _ambiguous = implementations.Where(g => g.Count() > 1)
            .ToFrozenDictionary(g => g.Key, g => string.Join(", ", g.Select(x => x.info.Type.FullName)), StringComparer.Ordinal);
    }

    /// <summary>Caller side: the descriptor of an interface method.</summary>
    public GrainMethod GetMethod(MethodInfo method) => _byMethodInfo.TryGetValue(method, out var m) ? m
        : throw new NotSupportedException($"{method.DeclaringType?.FullName}.{method.Name} is not a method of a registered grain interface (register the interface or its grain class in RuntimeOptions).");

    /// <summary>Callee side: the descriptor named by a request, or null when the interface or method is unknown.</summary>
    public GrainMethod? FindMethod(string interfaceName, string methodName) =>
        _byName.TryGetValue(interfaceName, out var methods) && methods.TryGetValue(methodName, out var m) ? m : null;

    /// <summary>The registered grain interface with this full name, or null.</summary>
    public Type? FindInterface(string interfaceName) => _interfaces.GetValueOrDefault(interfaceName);

    /// <summary>Demands that a grain interface is registered (so its calls can be encoded).</summary>
    public void DemandInterface(Type grainInterface)
    {
        if (!_interfaces.ContainsKey(grainInterface.FullName!))
            throw new NotSupportedException($"Grain interface {grainInterface.FullName} is not registered: call RuntimeOptions.AddGrainInterface<{grainInterface.Name}>() (clients) or AddGrain<TGrain>() (silos).");
    }

    /// <summary>Silo side: the class that implements grain type <paramref name="grainType"/>, or null.</summary>
    public GrainClassInfo? FindClass(string grainType) => _classes.GetValueOrDefault(grainType);

    /// <summary>Why no class serves <paramref name="grainType"/>.</summary>
    public string WhyNoClass(string grainType) => _ambiguous.TryGetValue(grainType, out var classes)
        ? $"grain interface {grainType} is implemented by several grain classes ({classes}); address the grain through an interface only one class implements"
        : $"grain type {grainType} has no registered grain class on this cluster";

    private static Func<GrainCallRouter, GrainId, GrainMethod, object?[], object> MakeAdapter(GrainMethod m)
    {
        string name = m.Kind switch
        {
            ReturnKind.Task => nameof(CallTask),
            ReturnKind.ValueTask => nameof(CallValueTask),
            ReturnKind.TaskOfT => nameof(CallTaskOf),
            _ => nameof(CallValueTaskOf),
        };
        var method = typeof(GrainInterfaceCatalog).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;
        if (m.ResultType is { } rt) method = method.MakeGenericMethod(rt);
        return method.CreateDelegate<Func<GrainCallRouter, GrainId, GrainMethod, object?[], object>>();
    }

    private static Func<object, WireSerializer, ValueTask<ReadOnlyMemory<byte>>> MakeAwaiter(GrainMethod m)
    {
        string name = m.Kind switch
        {
            ReturnKind.Task => nameof(AwaitTask),
            ReturnKind.ValueTask => nameof(AwaitValueTask),
            ReturnKind.TaskOfT => nameof(AwaitTaskOf),
            _ => nameof(AwaitValueTaskOf),
        };
        var method = typeof(GrainInterfaceCatalog).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;
        if (m.ResultType is { } rt) method = method.MakeGenericMethod(rt);
        return method.CreateDelegate<Func<object, WireSerializer, ValueTask<ReadOnlyMemory<byte>>>>();
    }

    private static async ValueTask<ReadOnlyMemory<byte>> AwaitTask(object returned, WireSerializer s)
    {
        await (Task)returned;
        return default;
    }

    private static async ValueTask<ReadOnlyMemory<byte>> AwaitValueTask(object returned, WireSerializer s)
    {
        await (ValueTask)returned;
        return default;
    }

    private static async ValueTask<ReadOnlyMemory<byte>> AwaitTaskOf<T>(object returned, WireSerializer s) => s.Serialize(await (Task<T>)returned, typeof(T));

    private static async ValueTask<ReadOnlyMemory<byte>> AwaitValueTaskOf<T>(object returned, WireSerializer s) => s.Serialize(await (ValueTask<T>)returned, typeof(T));

    private static object CallTask(GrainCallRouter r, GrainId id, GrainMethod m, object?[] args) => r.CallAsync<object?>(id, m, args);
    private static object CallValueTask(GrainCallRouter r, GrainId id, GrainMethod m, object?[] args) => new ValueTask(r.CallAsync<object?>(id, m, args));
    private static object CallTaskOf<T>(GrainCallRouter r, GrainId id, GrainMethod m, object?[] args) => r.CallAsync<T>(id, m, args);
    private static object CallValueTaskOf<T>(GrainCallRouter r, GrainId id, GrainMethod m, object?[] args) => new ValueTask<T>(r.CallAsync<T>(id, m, args));
}
