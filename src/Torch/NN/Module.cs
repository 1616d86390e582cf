using System.Reflection;

namespace AlignCluster.Torch.NN;

/// <summary>
/// Base of every layer and model. A module's parameters, buffers and submodules are either registered by name
/// (<see cref="Register{T}(string, T)"/>, <see cref="RegisterParameter"/>, <see cref="RegisterBuffer"/>: use these
/// to match checkpoint names such as "ln_1") or simply held in fields: fields of type <see cref="Module"/> or
/// <see cref="Parameter"/> are registered automatically under the field's name (a leading underscore dropped;
/// [<see cref="StateNameAttribute"/>] overrides the name, [<see cref="NotStateAttribute"/>] skips the field).
/// Names nest with dots, as in PyTorch: "h.0.attn.c_attn.weight".
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<(string Name, Parameter Value)> parameters = new();
    private readonly List<(string Name, Tensor Value, bool Persistent)> buffers = new();
    private readonly List<(string Name, Module Value)> modules = new();
    private bool fieldsDiscovered;
    private bool disposed;

    /// <summary>True in training mode (dropout active); see <see cref="Train"/> and <see cref="Eval"/>.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Registers a submodule under <paramref name="name"/> and returns it.</summary>
    protected T Register<T>(string name, T module) where T : Module
    {
        CheckName(name);
        modules.Add((name, module));
        return module;
    }

    /// <summary>Registers a parameter under <paramref name="name"/> and returns it.</summary>
    protected Parameter RegisterParameter(string name, Parameter parameter)
    {
        CheckName(name);
        parameters.Add((name, parameter));
        return parameter;
    }

    /// <summary>
    /// Registers a non-trainable tensor (e.g. a causal mask or rotary table) that moves with the module; a
    /// persistent buffer is part of the state dict. The module takes ownership (it leaves any dispose scope).
    /// </summary>
    protected Tensor RegisterBuffer(string name, Tensor buffer, bool persistent = true)
    {
        CheckName(name);
        buffer.DetachFromScope();
        buffers.Add((name, buffer, persistent));
        return buffer;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"'{name}' is not a valid state name (non-empty, no dots)", nameof(name));
        if (parameters.Any(p => p.Name == name) || buffers.Any(b => b.Name == name) || modules.Any(m => m.Name == name))
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'", nameof(name));
    }

    /// <summary>The direct submodules with their names.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren()
    {
        DiscoverFields();
        return modules.Select(m => (m.Name, m.Value));
    }

    /// <summary>This module ("") and every descendant, with dotted names.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in NamedChildren())
            foreach (var inner in child.NamedModules(Join(prefix, name)))
                yield return inner;
    }

    /// <summary>Every parameter with its dotted name; a parameter shared by two modules is listed once.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, module) in NamedModules())
        {
            module.DiscoverFields();
            foreach (var (name, p) in module.parameters)
                if (seen.Add(p)) yield return (Join(prefix, name), p);
        }
    }

    /// <summary>Every parameter (each once).</summary>
    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Every buffer with its dotted name.</summary>
    public IEnumerable<(string Name, Tensor Buffer, bool Persistent)> NamedBuffers()
    {
        foreach (var (prefix, module) in NamedModules())
            foreach (var (name, b, persistent) in module.buffers)
                yield return (Join(prefix, name), b, persistent);
    }

    /// <summary>
    /// Parameters and persistent buffers by dotted name (the live tensors, not copies; shared parameters appear
    /// under every name, as in PyTorch). Do not dispose them.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var (prefix, module) in NamedModules())
        {
            module.DiscoverFields();
            foreach (var (name, p) in module.parameters) state[Join(prefix, name)] = p;
            foreach (var (name, b, persistent) in module.buffers)
                if (persistent) state[Join(prefix, name)] = b;
        }
        return state;
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into this module's parameters and persistent buffers (converting
    /// dtype and device). With <paramref name="strict"/>, missing and unexpected names are errors; shapes must match.
    /// Nothing is modified when the check fails.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict();
        var problems = new List<string>();
        if (strict)
        {
            problems.AddRange(own.Keys.Where(k => !state.ContainsKey(k)).Select(k => $"missing key '{k}'"));
            problems.AddRange(state.Keys.Where(k => !own.ContainsKey(k)).Select(k => $"unexpected key '{k}'"));
        }
        foreach (var (name, target) in own)
        {
            if (!state.TryGetValue(name, out var source)) continue;
            var (want, have) = (target.Shape, source.Shape);
            if (!want.SequenceEqual(have))
                problems.Add($"shape mismatch for '{name}': checkpoint [{string.Join(", ", have)}], model [{string.Join(", ", want)}]");
        }
        if (problems.Count > 0)
            throw new TorchException($"cannot load state into {GetType().Name}: {string.Join("; ", problems)}");
        using var noGrad = Autograd.NoGrad();
        foreach (var (name, target) in own)
            if (state.TryGetValue(name, out var source)) target.Copy_(source);
    }

    /// <summary>Sets training mode on this module and every descendant. Returns this.</summary>
    public Module Train(bool training = true)
    {
        foreach (var (_, m) in NamedModules()) m.IsTraining = training;
        return this;
    }

    /// <summary>Sets evaluation mode (dropout off) on this module and every descendant. Returns this.</summary>
    public Module Eval() => Train(false);

    /// <summary>Moves/converts every parameter and buffer in place (the objects stay the same). Returns this.</summary>
    public Module To(Device device, DType? dtype = null)
    {
        using var noGrad = Autograd.NoGrad();
        foreach (var (_, module) in NamedModules())
        {
            module.DiscoverFields();
            foreach (var (_, p) in module.parameters) Move(p, device, Converted(p, dtype));
            foreach (var (_, b, _) in module.buffers) Move(b, device, Converted(b, dtype));
        }
        return this;

        static DType Converted(Tensor t, DType? dtype) => dtype is { } d && t.DType.IsFloatingPoint() ? d : t.DType;

        static void Move(Tensor t, Device device, DType dtype)
        {
            using var moved = t.To(device, dtype).DetachFromScope();
            t.SetData(moved);
        }
    }

    /// <summary>Converts floating-point parameters and buffers to <paramref name="dtype"/> in place. Returns this.</summary>
    public Module To(DType dtype) => To(DeviceOfParameters(), dtype);

    /// <summary>The device of the first parameter (CPU when there are none).</summary>
    public Device DeviceOfParameters() => Parameters().FirstOrDefault()?.Device ?? Device.Cpu;

    /// <summary>Clears the gradients of every parameter (sets them to none, as PyTorch 2 does).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.Grad = null;
    }

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount() => Parameters().Sum(p => p.NumElements);

    /// <summary>Disposes every parameter, buffer and submodule.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        DiscoverFields();
        foreach (var (_, m) in modules) m.Dispose();
        foreach (var (_, p) in parameters) p.Dispose();
        foreach (var (_, b, _) in buffers) b.Dispose();
        GC.SuppressFinalize(this);
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    private void DiscoverFields()
    {
        if (fieldsDiscovered) return;
        fieldsDiscovered = true;
        var chain = new List<Type>();
        for (var t = GetType(); t != null && t != typeof(Module); t = t.BaseType) chain.Insert(0, t);
        foreach (var type in chain)
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.IsDefined(typeof(NotStateAttribute))) continue;
                var value = field.GetValue(this);
                if (value is Parameter p && !parameters.Any(x => ReferenceEquals(x.Value, p)))
                    parameters.Add((FieldStateName(field), p));
                else if (value is Module m && !modules.Any(x => ReferenceEquals(x.Value, m)))
                    modules.Add((FieldStateName(field), m));
            }
    }

    private static string FieldStateName(FieldInfo field)
    {
        if (field.GetCustomAttribute<StateNameAttribute>() is { } a) return a.Name;
        var name = field.Name;
        if (name.StartsWith('<') && name.IndexOf('>') is var end and > 0) name = name[1..end]; // auto-property backing field
        return name.TrimStart('_');
    }
}

/// <summary>A module with a single-input forward pass.</summary>
public abstract class Module<TInput, TOutput> : Module
{
    /// <summary>Computes the output.</summary>
    public abstract TOutput Forward(TInput input);
}

/// <summary>The state-dict name of a Module or Parameter field (default: the field name without a leading underscore).</summary>
/// <remarks>On an auto-property write <c>[field: StateName("ln_1")]</c>.</remarks>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class StateNameAttribute(string name) : Attribute
{
    /// <summary>The name used in state dicts and checkpoints.</summary>
    public string Name { get; } = name;
}

/// <summary>Keeps a Module or Parameter field out of automatic registration (e.g. a reference to a shared module).</summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class NotStateAttribute : Attribute;
