using AlignCluster.Contracts;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace AlignCluster.Grains.Configuration;

/// <summary>
/// Reads a run config from YAML (snake_case keys, every key optional: defaults are those of <see cref="RunConfig"/>),
/// applies command-line overrides ("training.rounds=8", "loss.parameters.beta=0.2"), and validates the result.
/// Unknown keys, wrong types and invalid values are errors naming the file and line or the field.
/// </summary>
public static class RunConfigLoader
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    /// <summary>Loads <paramref name="path"/> (null: the embedded default), applies overrides, validates.</summary>
    /// <exception cref="ConfigException">The file is missing or malformed, an override is bad, or a value is
    /// invalid.</exception>
    public static RunConfig Load(string? path, IEnumerable<string>? overrides = null)
    {
        // Relative data.path, policy.path and a reward model's reward.name are relative to the config file (or the
        // working directory for the embedded default).
        string baseDirectory = path is null
            ? Environment.CurrentDirectory
            : Path.GetDirectoryName(Path.GetFullPath(path))!;
        var config = FromYaml(
            path is null ? "{}" : ReadFile(path),
            path ?? "(embedded default)",
            overrides,
            baseDirectory
        );
        if (config.Data.Source == "file" && !File.Exists(config.Data.Path))
            throw new ConfigException(
                $"{path ?? "(embedded default)"}: data.path: file '{config.Data.Path}' not found"
            );
        return config;
    }

    /// <summary>Parses YAML text (<paramref name="source"/> names it in errors), applies overrides,
    /// validates.</summary>
    /// <param name="baseDirectory">Relative data.path, policy.path and (reward.kind model) reward.name are made
    /// absolute against it (null: left as they are).</param>
    public static RunConfig FromYaml(
        string yaml,
        string source,
        IEnumerable<string>? overrides = null,
        string? baseDirectory = null
    )
    {
        var overrideList = overrides?.ToList() ?? [];
        CheckSyntax(yaml, source);
        // The text as written first, so that its errors carry its own lines; then with the overrides, whose errors can
        // only come from an override (the rewritten text's lines would mean nothing to the user).
        var config = Deserialize(yaml, source, withPosition: true);
        if (overrideList.Count > 0)
            config = Deserialize(ApplyOverrides(yaml, source, overrideList), "--set", withPosition: false);
        config ??= new RunConfig();
        if (baseDirectory is not null)
        {
            string? Absolute(string? p) => p is null || Path.IsPathRooted(p) ? p : Path.GetFullPath(p, baseDirectory);
            config = config with
            {
                Data = config.Data with { Path = Absolute(config.Data.Path) },
                Policy = config.Policy with { Path = Absolute(config.Policy.Path) },
                Reward =
                    config.Reward.Kind == "model"
                        ? config.Reward with
                        {
                            Name = Absolute(config.Reward.Name)!,
                        }
                        : config.Reward,
            };
        }
        var errors = Validate(config);
        if (errors.Count > 0)
            throw new ConfigException($"{source}: invalid run config:\n  " + string.Join("\n  ", errors));
        return config;
    }

    private static RunConfig? Deserialize(string yaml, string source, bool withPosition)
    {
        try
        {
            return Deserializer.Deserialize<RunConfig?>(yaml);
        }
        catch (YamlException e)
        {
            string where = withPosition ? $"{source}:{e.Start.Line}:{e.Start.Column}" : source;
            throw new ConfigException($"{where}: {Explain(e, yaml)}", e);
        }
    }

    /// <summary>
    /// Syntax errors and keys given twice, with the file's own line and column. YamlDotNet's scanner throws a bare
    /// InvalidOperationException
    /// when the text ends inside a flow mapping or sequence; that case names the unclosed '{' or '['.
    /// </summary>
    private static void CheckSyntax(string yaml, string source)
    {
        var parser = new Parser(new StringReader(yaml));
        var open = new Stack<(char Flow, Mark Start)>(); // every open collection; Flow '{' / '[' or ' ' for block ones
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case MappingStart m:
                        open.Push((m.Style == MappingStyle.Flow ? '{' : ' ', m.Start));
                        break;
                    case SequenceStart q:
                        open.Push((q.Style == SequenceStyle.Flow ? '[' : ' ', q.Start));
                        break;
                    case MappingEnd or SequenceEnd:
                        open.TryPop(out _);
                        break;
                }
            }
            // A key given twice: the deserializer would silently keep the last one, and the override pass would crash.
            new YamlStream().Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{source}:{e.Start.Line}:{e.Start.Column}: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            var flow = open.FirstOrDefault(o => o.Flow != ' ');
            throw new ConfigException(
                flow.Flow != default
                    ? $"{source}:{flow.Start.Line}:{flow.Start.Column}: malformed YAML: this '{flow.Flow}' is not "
                        + "closed"
                    : $"{source}: malformed YAML",
                e
            );
        }
    }

    /// <summary>A deserialization error in words: the key path, and for an unknown key the keys known there.</summary>
    private static string Explain(YamlException e, string yaml)
    {
        string cause = e.InnerException is { } inner ? inner.Message : e.Message;
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException)
        {
            return cause;
        }
        if (stream.Documents.Count == 0 || KeyPathAt(stream.Documents[0].RootNode, e.Start, "") is not { } at)
            return cause;
        var defaults = new YamlStream();
        defaults.Load(new StringReader(ToYaml(new RunConfig())));
        YamlNode? Lookup(IEnumerable<string> keys)
        {
            YamlNode? node = defaults.Documents[0].RootNode;
            foreach (var key in keys)
                node =
                    node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var child)
                        ? child
                        : null;
            return node;
        }
        string Keys(YamlMappingNode m) => string.Join(", ", m.Children.Keys);
        // an item of a list: the list's default
        var segments = at.Path.Split('.').Select(k => k.Split('[')[0]).ToArray();
        if (e.Message.Contains("not found on type", StringComparison.Ordinal))
            return Lookup(segments[..^1]) is YamlMappingNode parent
                ? $"{at.Path}: unknown key; known here: {Keys(parent)}"
                : $"{at.Path}: unknown key";
        string given = at.Value switch
        {
            YamlScalarNode s => $"'{s.Value}'",
            YamlMappingNode => "a mapping",
            _ => "a list",
        };
        return Lookup(segments) switch
        {
            YamlMappingNode m => $"{at.Path}: expected a mapping with keys {Keys(m)}, got {given}",
            YamlSequenceNode q when at.Path.EndsWith(']') =>
                $"{at.Path}: invalid value {given} (the default list is [{string.Join(", ", q.Children)}])",
            YamlSequenceNode q => $"{at.Path}: expected a list such as [{string.Join(", ", q.Children)}], got {given}",
            YamlScalarNode d when at.Value is YamlScalarNode =>
                $"{at.Path}: invalid value {given} (the default is '{d.Value}')",
            YamlScalarNode => $"{at.Path}: expected a single value, got {given}",
            _ => $"{at.Path}: {cause}",
        };
    }

    /// <summary>The dotted key whose key or value starts at <paramref name="mark"/> (the deepest), and that
    /// value.</summary>
    private static (string Path, YamlNode Value)? KeyPathAt(YamlNode node, Mark mark, string prefix)
    {
        static bool At(YamlNode n, Mark m) => n.Start.Line == m.Line && n.Start.Column == m.Column;
        if (node is YamlSequenceNode list)
            return list
                .Children.Select(
                    (item, i) => At(item, mark) ? ($"{prefix}[{i}]", item) : KeyPathAt(item, mark, $"{prefix}[{i}]")
                )
                .FirstOrDefault(found => found is not null);
        if (node is not YamlMappingNode map)
            return null;
        foreach (var (key, value) in map.Children)
        {
            string path = prefix.Length == 0 ? key.ToString() : $"{prefix}.{key}";
            if (At(key, mark))
                return (path, value);
            if (KeyPathAt(value, mark, path) is { } deeper)
                return deeper;
            if (At(value, mark))
                return (path, value);
        }
        return null;
    }

    /// <summary>The config as YAML (what `train --print-config` shows).</summary>
    public static string ToYaml(RunConfig config) => Serializer.Serialize(config);

    private static string ReadFile(string path)
    {
        if (!File.Exists(path))
            throw new ConfigException($"{path}: config file not found");
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read the config file: {e.Message}", e);
        }
    }

    /// <summary>Sets "a.b.c=value" paths in the YAML tree (creating mappings as needed).</summary>
    private static string ApplyOverrides(string yaml, string source, List<string> overrides)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml)); // CheckSyntax has passed
        var root =
            stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode m ? m : new YamlMappingNode();
        foreach (var item in overrides)
        {
            int eq = item.IndexOf('=');
            if (eq <= 0)
                throw new ConfigException($"override '{item}': expected key.path=value");
            var path = item[..eq].Split('.');
            string value = item[(eq + 1)..];
            var node = root;
            foreach (var part in path[..^1])
            {
                if (
                    !node.Children.TryGetValue(new YamlScalarNode(part), out var child)
                    || child is not YamlMappingNode next
                )
                {
                    next = new YamlMappingNode();
                    node.Children[new YamlScalarNode(part)] = next;
                }
                node = next;
            }
            node.Children[new YamlScalarNode(path[^1])] = value.StartsWith('[')
                ? new YamlSequenceNode(
                    value
                        .Trim('[', ']')
                        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(v => new YamlScalarNode(v))
                )
                : new YamlScalarNode(value);
        }
        var writer = new StringWriter();
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    /// <summary>
    /// loss.name against the alignment registry; each loss.parameters entry through that loss's own range checks
    /// (docs/alignment.md), one error per field. <c>beta</c> is accepted for every loss (the MC kernel's β).
    /// </summary>
    private static void ValidateLoss(RunConfig c, List<string> errors)
    {
        var known = Alignment.Losses.LossRegistry.Names.ToArray();
        var name = known.FirstOrDefault(n => string.Equals(n, c.Loss.Name, StringComparison.OrdinalIgnoreCase));
        if (name is null)
        {
            errors.Add($"loss.name: unknown loss '{c.Loss.Name}'; known: {string.Join(", ", known)}");
            return;
        }
        var library = Alignment.Losses.LossRegistry.Get(name);
        foreach (var (key, value) in c.Loss.Parameters)
        {
            if (!double.IsFinite(value))
                errors.Add($"loss.parameters.{key}: {value} is not a finite number");
            else if (key == Training.AlignmentGroupLoss.KernelBeta && !library.Defaults.ContainsKey(key))
            {
                if (value <= 0)
                    errors.Add($"loss.parameters.beta: {value} must be > 0 (the MC kernel's β)");
            }
            else
            {
                try
                {
                    library.Resolve(new Dictionary<string, double> { [key] = value });
                }
                catch (ArgumentException e)
                {
                    errors.Add($"loss.parameters.{key}: {e.Message}");
                }
            }
        }
        if (
            library.Shape == Alignment.Losses.LossShape.SinglePair
            && c.Selection.Negatives != 1
            && c.Selection.Strategy != "all"
        )
            errors.Add(
                $"selection.negatives: {name} compares the chosen with exactly one negative, got "
                    + $"{c.Selection.Negatives} (use 1, or strategy all for one pair per negative)"
            );
    }

    /// <summary>Every problem with a config, one line each, naming the field.</summary>
    public static List<string> Validate(RunConfig c)
    {
        var errors = new List<string>();
        void Check(bool ok, string message)
        {
            if (!ok)
                errors.Add(message);
        }

        Check(
            !string.IsNullOrEmpty(c.RunId)
                && c.RunId.Length <= 100
                && c.RunId.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.'),
            $"run_id: '{c.RunId}' must be 1–100 characters of letters, digits, '-', '_' or '.'"
        );
        Check(c.Shards is >= 1 and <= 1024, $"shards: {c.Shards} must be between 1 and 1024");

        Check(
            Policy.PolicyFactory.Kinds.Contains(c.Policy.Kind),
            $"policy.kind: '{c.Policy.Kind}' is not one of {string.Join(", ", Policy.PolicyFactory.Kinds)}"
        );
        if (c.Policy.Kind == "hf")
            Check(
                c.Policy.Path is not null && Directory.Exists(c.Policy.Path),
                $"policy.path: model directory '{c.Policy.Path}' not found"
            );
        Check(
            c.Policy.MaxResponseLength is >= 1 and <= 4096,
            $"policy.max_response_length: {c.Policy.MaxResponseLength} must be 1–4096"
        );
        Check(c.Policy.WeightDecay >= 0, $"policy.weight_decay: {c.Policy.WeightDecay} must be ≥ 0");
        Check(c.Policy.GradClip >= 0, $"policy.grad_clip: {c.Policy.GradClip} must be ≥ 0 (0 = no clipping)");

        Check(c.Data.Source is "task" or "file", $"data.source: '{c.Data.Source}' is not one of task, file");
        // The synthetic task's prompts and oracle are toy-vocabulary digits, which mean nothing to a model's own
        // tokenizer.
        Check(
            c.Data.Source != "task" || c.Policy.Kind != "hf",
            $"data.source: the task '{c.Data.Task}' is written in the toy vocabulary (digit ids "
                + $"0–{Demo.ToyVocabulary.Size - 1}), not in the hf policy's tokenizer; "
                + "with policy.kind hf use data.source file (a preference file, encoded with the model's tokenizer)"
        );
        Check(
            c.Data.Source != "file" || !string.IsNullOrEmpty(c.Data.Path),
            "data.path: required when data.source is file"
        );
        Check(
            c.Data.Task == Demo.ReverseDigitsTask.Name,
            $"data.task: unknown task '{c.Data.Task}'; known: {Demo.ReverseDigitsTask.Name}"
        );
        Check(c.Data.TrainPrompts >= 1, $"data.train_prompts: {c.Data.TrainPrompts} must be ≥ 1");
        Check(c.Data.EvalPrompts >= 1, $"data.eval_prompts: {c.Data.EvalPrompts} must be ≥ 1");
        Check(
            c.Data.MinLength >= 2 && c.Data.MinLength <= c.Data.MaxLength && c.Data.MaxLength <= 12,
            $"data.min_length/max_length: {c.Data.MinLength}..{c.Data.MaxLength} must satisfy 2 ≤ min ≤ max ≤ 12"
        );
        Check(c.Data.MaxPromptTokens >= 1, $"data.max_prompt_tokens: {c.Data.MaxPromptTokens} must be ≥ 1");
        Check(
            c.Data.DemonstrationNoise is >= 0 and <= 1,
            $"data.demonstration_noise: {c.Data.DemonstrationNoise} must be in [0, 1]"
        );
        // the toy vocabulary's policies: answers are digits + end token
        if (c.Policy.Kind is "toy" or "gpt2" or "llama")
            Check(
                c.Policy.MaxResponseLength >= c.Data.MaxLength + 1,
                $"policy.max_response_length: {c.Policy.MaxResponseLength} is too short for answers of "
                    + $"{c.Data.MaxLength} digits plus the end token"
            );
        long distinct = Enumerable
            .Range(c.Data.MinLength, Math.Max(0, c.Data.MaxLength - c.Data.MinLength + 1))
            .Sum(l => (long)Math.Pow(10, Math.Min(l, 15)));
        Check(
            c.Data.Source == "file" || c.Data.TrainPrompts + c.Data.EvalPrompts <= distinct / 2,
            $"data.train_prompts + data.eval_prompts: {c.Data.TrainPrompts + c.Data.EvalPrompts} is too many for "
                + $"{distinct} distinct prompts of length {c.Data.MinLength}..{c.Data.MaxLength}"
        );

        Check(
            c.Sft.Epochs >= 0 && c.Sft.BatchSize >= 1 && c.Sft.LearningRate > 0,
            $"sft: epochs ({c.Sft.Epochs}) must be ≥ 0, batch_size ({c.Sft.BatchSize}) ≥ 1, learning_rate "
                + $"({c.Sft.LearningRate}) > 0"
        );
        Check(
            c.Candidates.Temperatures is { Length: > 0 }
                && c.Candidates.Temperatures.All(t => t > 0 && double.IsFinite(t)),
            "candidates.temperatures: need at least one finite temperature > 0"
        );
        Check(
            c.Candidates.PerTemperature >= 1,
            $"candidates.per_temperature: {c.Candidates.PerTemperature} must be ≥ 1"
        );

        ValidateLoss(c, errors);

        Check(
            Alignment.Selection.SelectorNames.TryParse(c.Selection.Strategy, out _),
            $"selection.strategy: unknown '{c.Selection.Strategy}'; known: "
                + $"{string.Join(", ", Alignment.Selection.SelectorNames.All)}"
        );
        Check(c.Selection.Negatives >= 1, $"selection.negatives: {c.Selection.Negatives} must be ≥ 1");
        Check(c.Selection.Per is "round" or "step", $"selection.per: '{c.Selection.Per}' is not one of round, step");
        Check(
            !c.Selection.IncludeChosen || c.Selection.Strategy == "mc",
            "selection.include_chosen: only applies to strategy mc"
        );

        Check(c.Training.Rounds >= 1, $"training.rounds: {c.Training.Rounds} must be ≥ 1");
        Check(c.Training.BatchSize >= 1, $"training.batch_size: {c.Training.BatchSize} must be ≥ 1");
        Check(
            c.Training.LearningRate > 0 && double.IsFinite(c.Training.LearningRate),
            $"training.learning_rate: {c.Training.LearningRate} must be > 0"
        );
        Check(
            c.Training.DeviceWait is >= 0 and <= 86400,
            $"training.device_wait: {c.Training.DeviceWait} must be 0–86400 seconds"
        );
        Check(
            c.Training.Trainers is >= 1 and <= 1024,
            $"training.trainers: {c.Training.Trainers} must be between 1 and 1024 (one per device)"
        );

        Check(c.Online.Every >= 0, $"online.every: {c.Online.Every} must be ≥ 0 (0 = offline)");
        Check(
            c.Online.Generations >= 1 && c.Online.Temperature > 0 && c.Online.Cap >= 2,
            "online: generations must be ≥ 1, temperature > 0, cap ≥ 2"
        );

        Check(
            c.Reward.Kind is "rule" or "http" or "model",
            $"reward.kind: '{c.Reward.Kind}' is not supported (supported: rule, http, model)"
        );
        if (c.Reward.Kind == "rule")
            Check(
                c.Reward.Name == Demo.ReverseDigitsTask.Name,
                $"reward.name: unknown rule '{c.Reward.Name}'; known: {Demo.ReverseDigitsTask.Name}"
            );
        // The rules read the toy vocabulary's digits: they cannot rate an hf policy's samples (an HTTP judge or a
        // reward model can).
        if (c.Reward.Kind == "rule" && c.Policy.Kind == "hf")
            Check(
                c.Online.Every == 0 && !c.Candidates.InjectNoise,
                $"reward.kind: the rule '{c.Reward.Name}' reads toy-vocabulary digits and cannot rate an hf "
                    + "policy's responses, which online rounds and candidates.inject_noise need; use reward.kind "
                    + "http or model"
            );
        if (c.Reward.Kind == "model" && Demo.RewardModelFunction.Problems(c) is { } rewardModelProblem)
            errors.Add(rewardModelProblem);
        if (c.Reward.Kind == "http")
            Check(
                Uri.TryCreate(c.Reward.Name, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https",
                $"reward.name: '{c.Reward.Name}' is not an http(s) URL"
            );

        Check(
            c.Eval.Every >= 0 && c.Eval.SamplesPerPrompt >= 1 && c.Eval.Temperature > 0,
            "eval: every must be ≥ 0, samples_per_prompt ≥ 1, temperature > 0"
        );
        Check(c.Checkpoint.Every >= 1, $"checkpoint.every: {c.Checkpoint.Every} must be ≥ 1");
        Check(
            c.Checkpoint.Restarts is >= 0 and <= 100,
            $"checkpoint.restarts: {c.Checkpoint.Restarts} must be between 0 and 100"
        );
        return errors;
    }
}
