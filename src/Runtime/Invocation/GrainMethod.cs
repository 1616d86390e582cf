using System.Reflection;

namespace AlignCluster.Runtime.Invocation;

/// <summary>How a grain method returns.</summary>
internal enum ReturnKind { Task, TaskOfT, ValueTask, ValueTaskOfT }

/// <summary>Everything the runtime needs to know about one grain interface method, computed once.</summary>
internal sealed class GrainMethod
{
    public GrainMethod(MethodInfo method, TimeSpan defaultTimeout)
    {
        Method = method;
        Interface = method.DeclaringType!;
        InterfaceName = Interface.FullName!;
        Name = method.Name;
        var parameters = method.GetParameters();
        foreach (var p in parameters)
            if (p.ParameterType.IsByRef)
                throw new NotSupportedException($"{InterfaceName}.{Name}: parameter '{p.Name}' is ref/out; grain methods take values only.");
        CancellationTokenIndex = Array.FindIndex(parameters, p => p.ParameterType == typeof(CancellationToken));
        ArgumentIndexes = [.. Enumerable.Range(0, parameters.Length).Where(i => parameters[i].ParameterType != typeof(CancellationToken))];
        ArgumentTypes = [.. ArgumentIndexes.Select(i => parameters[i].ParameterType)];
        ArgumentNames = [.. ArgumentIndexes.Select(i => parameters[i].Name ?? $"arg{i}")];
        ParameterCount = parameters.Length;
        var rt = method.ReturnType;
        (Kind, ResultType) = rt == typeof(Task) ? (ReturnKind.Task, null)
            : rt == typeof(ValueTask) ? (ReturnKind.ValueTask, null)
            : rt.IsGenericType && rt.GetGenericTypeDefinition() == typeof(Task<>) ? (ReturnKind.TaskOfT, rt.GetGenericArguments()[0])
            : rt.IsGenericType && rt.GetGenericTypeDefinition() == typeof(ValueTask<>) ? (ReturnKind.ValueTaskOfT, rt.GetGenericArguments()[0])
            : throw new NotSupportedException($"{InterfaceName}.{Name} returns {rt.Name}; grain methods return Task, Task<T>, ValueTask or ValueTask<T>.");
        Timeout = method.GetCustomAttribute<ResponseTimeoutAttribute>()?.Timeout ?? defaultTimeout;
        AlwaysInterleave = method.IsDefined(typeof(AlwaysInterleaveAttribute));
        Invoker = MethodInvoker.Create(method);
        SpanName = $"{InterfaceName}/{Name}";
        ArgumentSites = [.. ArgumentNames.Select(n => $"{this} argument '{n}'")];
        ResultSite = $"{this} result";
        MetricTags = [new("rpc.service", InterfaceName), new("rpc.method", Name)];
    }

    /// <summary>Span name: "{interface full name}/{method}".</summary>
    public string SpanName { get; }

    /// <summary>"I.M argument 'x'", for decoding errors (built once, not per call).</summary>
    public string[] ArgumentSites { get; }

    /// <summary>"I.M result", for decoding errors.</summary>
    public string ResultSite { get; }

    /// <summary>rpc.service and rpc.method as metric tags.</summary>
    public KeyValuePair<string, object?>[] MetricTags { get; }

    public MethodInfo Method { get; }
    public Type Interface { get; }
    public string InterfaceName { get; }
    public string Name { get; }
    public int ParameterCount { get; }
    /// <summary>Positions of serialized parameters in the full parameter list.</summary>
    public int[] ArgumentIndexes { get; }
    public Type[] ArgumentTypes { get; }
    public string[] ArgumentNames { get; }
    /// <summary>Position of the CancellationToken parameter, or -1.</summary>
    public int CancellationTokenIndex { get; }
    public ReturnKind Kind { get; }
    /// <summary>T of Task&lt;T&gt;/ValueTask&lt;T&gt;; null for Task/ValueTask.</summary>
    public Type? ResultType { get; }
    public TimeSpan Timeout { get; }
    public bool AlwaysInterleave { get; }
    /// <summary>Fast invoker of the interface method (virtual dispatch on the grain instance).</summary>
    public MethodInvoker Invoker { get; }

    /// <summary>Caller-side: builds the Task/ValueTask the proxy returns (set by <see cref="GrainInterfaceCatalog"/>).</summary>
    public Func<GrainCallRouter, Messaging.GrainId, GrainMethod, object?[], object> CallAdapter { get; set; } = null!;

    /// <summary>Callee side: awaits what the grain method returned and encodes the result (set by the catalog).</summary>
    public Func<object, Serialization.WireSerializer, ValueTask<ReadOnlyMemory<byte>>> ResultAwaiter { get; set; } = null!;

    public ValueTask<ReadOnlyMemory<byte>> AwaitResult(object returned, Serialization.WireSerializer serializer) => ResultAwaiter(returned, serializer);

    public override string ToString() => $"{Interface.Name}.{Name}";
}
