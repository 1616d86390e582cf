using System.Collections.Concurrent;
using System.Reflection;

namespace AlignCluster.Runtime.Serialization;

/// <summary>
/// Decides which types may be serialized or deserialized: primitives and common value types, enums, byte buffers,
/// arrays/lists/dictionaries/nullables of allowed types, grain interfaces (as references), and message types marked
/// [GenerateSerializer] or [Serializable] or registered with <see cref="RuntimeOptions.AddMessageType{T}"/>, whose
/// public members are allowed in turn. Everything else is refused with an error naming the type and where it was met.
/// </summary>
internal sealed class TypeAllowlist
{
    private static readonly HashSet<Type> Leaves =
    [
        typeof(bool), typeof(byte), typeof(sbyte), typeof(short), typeof(ushort), typeof(int), typeof(uint), typeof(long),
        typeof(ulong), typeof(float), typeof(double), typeof(decimal), typeof(char), typeof(string), typeof(Half),
        typeof(Guid), typeof(DateTime), typeof(DateTimeOffset), typeof(TimeSpan), typeof(DateOnly), typeof(TimeOnly),
        typeof(byte[]), typeof(ReadOnlyMemory<byte>), typeof(Memory<byte>), typeof(TickStatus),
    ];

    private static readonly HashSet<Type> GenericContainers =
    [
        typeof(List<>), typeof(IList<>), typeof(IReadOnlyList<>), typeof(ICollection<>), typeof(IReadOnlyCollection<>),
        typeof(IEnumerable<>), typeof(HashSet<>), typeof(ISet<>), typeof(Dictionary<,>), typeof(IDictionary<,>),
        typeof(IReadOnlyDictionary<,>), typeof(KeyValuePair<,>), typeof(Nullable<>),
    ];

    private readonly HashSet<Type> _registered;
    private readonly ConcurrentDictionary<Type, string?> _verdicts = new();

    public TypeAllowlist(IEnumerable<Type> registeredMessageTypes) => _registered = [.. registeredMessageTypes];

    /// <summary>True when <paramref name="type"/> may cross the wire.</summary>
    public bool IsAllowed(Type type) => Explain(type) is null;

    /// <summary>Throws <see cref="NotSupportedException"/> naming <paramref name="where"/> unless the type is allowed.</summary>
    public void Demand(Type type, string where)
    {
        if (Explain(type) is { } why)
            throw new NotSupportedException($"{where}: type {Describe(type)} may not be serialized: {why}");
    }

    /// <summary>Null when allowed; otherwise why not.</summary>
    public string? Explain(Type type) => _verdicts.TryGetValue(type, out var v) ? v : Check(type, []);

    private string? Check(Type type, HashSet<Type> visiting)
    {
        if (_verdicts.TryGetValue(type, out var known)) return known;
        if (!visiting.Add(type)) return null; // recursive message types: decided by the outer check
        string? verdict = Decide(type, visiting);
        visiting.Remove(type);
        _verdicts[type] = verdict;
        return verdict;
    }

    private string? Decide(Type type, HashSet<Type> visiting)
    {
        if (Leaves.Contains(type) || type.IsEnum) return null;
        if (type.IsInterface && typeof(IGrain).IsAssignableFrom(type)) return null; // grain reference
        if (type.IsArray)
            return type.GetArrayRank() == 1 ? Inner(type.GetElementType()!, "element", visiting) : "multi-dimensional arrays are not supported";
        if (type.IsGenericType && GenericContainers.Contains(type.GetGenericTypeDefinition()))
        {
            foreach (var arg in type.GetGenericArguments())
                if (Inner(arg, "type argument", visiting) is { } why) return why;
            return null;
        }
        bool marked = _registered.Contains(type)
            || type.IsDefined(typeof(GenerateSerializerAttribute), false)
            || type.IsDefined(typeof(SerializableAttribute), false) && type.Assembly != typeof(object).Assembly;
        if (!marked)
            return "it is not a registered message type (mark it [GenerateSerializer] or call RuntimeOptions.AddMessageType<T>())";
        if (type.IsAbstract || type.IsInterface)
            return "abstract types and non-grain interfaces cannot be deserialized (use a concrete message type)";
        foreach (var member in SerializedMembers(type))
            if (Inner(member.Type, $"member {member.Name}", visiting) is { } why) return why;
        return null;
    }

    private string? Inner(Type type, string role, HashSet<Type> visiting) =>
        Check(type, visiting) is { } why ? $"its {role} type {Describe(type)} is not allowed ({why})" : null;

    private static IEnumerable<(string Name, Type Type)> SerializedMembers(Type type)
    {
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true }) yield return (p.Name, p.PropertyType);
        foreach (var f in type.GetFields(BindingFlags.Public | BindingFlags.Instance)) yield return (f.Name, f.FieldType);
    }

    internal static string Describe(Type t) =>
        t.IsGenericType ? $"{t.Namespace}.{t.Name[..t.Name.IndexOf('`')]}<{string.Join(", ", t.GetGenericArguments().Select(Describe))}>" : t.FullName ?? t.Name;
}
