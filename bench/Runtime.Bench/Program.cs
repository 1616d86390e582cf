// Runtime benchmarks. Usage: dotnet run -c Release --project bench/Runtime.Bench -- [name ...]; no name runs all.
var benches = new Dictionary<string, Func<Task>>
{
    ["cross-silo"] = CrossSiloBench.RunAsync,
    ["local"] = LocalCallsBench.RunAsync,
};
var chosen = args.Length == 0 ? benches.Keys.ToArray() : args;
foreach (var name in chosen)
{
    if (!benches.TryGetValue(name, out var run))
    {
        Console.Error.WriteLine($"unknown bench '{name}'; known: {string.Join(", ", benches.Keys)}");
        return 2;
    }
    await run();
}
return 0;
