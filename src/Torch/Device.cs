namespace AlignCluster.Torch;

/// <summary>Kind of device; the values are libtorch's c10::DeviceType codes.</summary>
public enum DeviceType
{
    /// <summary>The host CPU.</summary>
    Cpu = 0,
    /// <summary>An NVIDIA GPU.</summary>
    Cuda = 1,
}

/// <summary>Where a tensor lives: <c>cpu</c> or <c>cuda:N</c>.</summary>
public readonly record struct Device(DeviceType Type, int Index)
{
    /// <summary>The CPU.</summary>
    public static readonly Device Cpu = new(DeviceType.Cpu, -1);

    /// <summary>GPU number <paramref name="index"/>.</summary>
    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    /// <summary>Parses "cpu", "cuda" (= cuda:0) or "cuda:N".</summary>
    public static Device Parse(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "cuda") return Cuda(0);
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out var i) && i >= 0) return Cuda(i);
        throw new FormatException($"device '{text}' is not 'cpu', 'cuda' or 'cuda:N'");
    }

    /// <summary>True for the CPU.</summary>
    public bool IsCpu => Type == DeviceType.Cpu;

    /// <inheritdoc />
    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Math.Max(Index, 0)}";
}
