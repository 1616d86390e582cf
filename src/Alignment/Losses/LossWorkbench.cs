using System.Text.Json;
using AlignCluster.Alignment.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace AlignCluster.Alignment.Losses;

/// <summary>One response of the workbench's group. Optional fields are needed only by the losses that read
/// them.</summary>
public sealed record WorkbenchResponse(double PolicyLogp, double? ReferenceLogp, double? Tokens, double? Score);

/// <summary>A requested loss with its hyper-parameter overrides.</summary>
public sealed record WorkbenchLoss(string Name, IReadOnlyDictionary<string, double> Overrides);

/// <summary>The input of <c>aligncluster losses</c>: one group of responses (the first is the chosen) and the losses to
/// compare.</summary>
/// <param name="Losses">Null: every loss the group's fields allow.</param>
public sealed record WorkbenchInput(IReadOnlyList<WorkbenchResponse> Responses, IReadOnlyList<WorkbenchLoss>? Losses);

/// <summary>A loss's value on the group and its gradient with respect to each response's policy log-prob.</summary>
public sealed record LossEvaluation(
    string Name,
    IReadOnlyDictionary<string, double> HyperParameters,
    double Value,
    double[] GradPolicyLogps
);

/// <summary>
/// Evaluates losses side by side on the same numbers (the <c>aligncluster losses</c> command; format in
/// docs/alignment.md). Values and gradients come from the tensor losses and libtorch's autograd, in float64.
/// </summary>
public static class LossWorkbench
{
    /// <summary>Parses the JSON input; errors are <see cref="DataFormatException"/>s naming the file and
    /// field.</summary>
    public static WorkbenchInput Parse(string json, string fileName)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(JsonlLines.QuoteNonFiniteLiterals(System.Text.Encoding.UTF8.GetBytes(json)));
        }
        catch (JsonException e)
        {
            throw new DataFormatException(
                DataErrorKind.MalformedJson,
                fileName,
                (int)(e.LineNumber ?? 0) + 1,
                null,
                $"malformed JSON at byte {e.BytePositionInLine + 1} of the line"
            );
        }
        using (document)
        {
            var fields = new RecordFields(fileName, 0);
            var root = fields.AsObject(document.RootElement, "(root)");
            var responses = new List<WorkbenchResponse>();
            int i = 0;
            foreach (var item in fields.RequiredArray(root, "responses").EnumerateArray())
            {
                string path = $"responses[{i++}]";
                var r = fields.AsObject(item, path);
                double policy = fields.OptionalFiniteNumber(r, "policy_logp", path)
                    ?? throw fields.Error(
                        DataErrorKind.MissingField,
                        $"{path}.policy_logp",
                        "required field is missing"
                    );
                double? tokens = fields.OptionalFiniteNumber(r, "tokens", path);
                if (tokens is <= 0)
                    throw fields.Error(DataErrorKind.InvalidValue, $"{path}.tokens", $"must be positive, got {tokens}");
                responses.Add(
                    new WorkbenchResponse(
                        policy,
                        fields.OptionalFiniteNumber(r, "reference_logp", path),
                        tokens,
                        fields.OptionalFiniteNumber(r, "score", path)
                    )
                );
            }
            if (responses.Count < 2)
                throw fields.Error(
                    DataErrorKind.InvalidValue,
                    "responses",
                    $"need at least 2 responses (the chosen first), got {responses.Count}"
                );
            return new WorkbenchInput(responses, fields.Has(root, "losses") ? ParseLosses(root, fields) : null);
        }
    }

    private static List<WorkbenchLoss> ParseLosses(JsonElement root, RecordFields fields)
    {
        var losses = new List<WorkbenchLoss>();
        int i = 0;
        foreach (var item in fields.RequiredArray(root, "losses").EnumerateArray())
        {
            string path = $"losses[{i++}]";
            if (item.ValueKind == JsonValueKind.String)
            {
                losses.Add(new WorkbenchLoss(item.GetString()!, new Dictionary<string, double>()));
                continue;
            }
            var entry = fields.AsObject(item, path);
            var overrides = new Dictionary<string, double>();
            foreach (var property in entry.EnumerateObject())
                if (property.Name != "name")
                    overrides[property.Name] = fields.OptionalFiniteNumber(entry, property.Name, path)!.Value;
            losses.Add(new WorkbenchLoss(fields.RequiredString(entry, "name", path), overrides));
        }
        return losses;
    }

    /// <summary>
    /// Evaluates the requested losses (or every applicable one). A requested loss that cannot run on the group is an
    /// error; with no list, inapplicable losses are returned in <c>Skipped</c> with the reason.
    /// </summary>
    public static (List<LossEvaluation> Results, List<(string Name, string Reason)> Skipped) Evaluate(
        WorkbenchInput input
    )
    {
        var requested = input.Losses
            ?? LossRegistry.Names.Select(n => new WorkbenchLoss(n, new Dictionary<string, double>())).ToList();
        var results = new List<LossEvaluation>();
        var skipped = new List<(string, string)>();
        foreach (var loss in requested)
        {
            var spec = LossRegistry.Get(loss.Name);
            string? problem = Inapplicable(spec, input.Responses);
            if (problem is not null)
            {
                if (input.Losses is not null)
                    throw new ArgumentException($"{spec.Name}: {problem}");
                skipped.Add((spec.Name, problem));
                continue;
            }
            results.Add(EvaluateOne(spec, loss.Overrides, input.Responses));
        }
        return (results, skipped);
    }

    private static string? Inapplicable(LossSpec spec, IReadOnlyList<WorkbenchResponse> responses)
    {
        if (spec.Name == "exo_pref" && responses.Count != 2)
            return $"needs exactly 2 responses, got {responses.Count}";
        foreach (
            var (flag, field) in new[]
            {
                (LossInputs.Reference, "reference_logp"),
                (LossInputs.TokenCounts, "tokens"),
                (LossInputs.Scores, "score"),
            }
        )
        {
            if (!spec.Needs.HasFlag(flag))
                continue;
            int missing = responses.ToList().FindIndex(r => Value(r, flag) is null);
            if (missing >= 0)
                return $"needs '{field}' on every response; responses[{missing}] has none";
        }
        return null;
    }

    private static double? Value(WorkbenchResponse r, LossInputs flag) =>
        flag switch
        {
            LossInputs.Reference => r.ReferenceLogp,
            LossInputs.TokenCounts => r.Tokens,
            _ => r.Score,
        };

    private static LossEvaluation EvaluateOne(
        LossSpec spec,
        IReadOnlyDictionary<string, double> overrides,
        IReadOnlyList<WorkbenchResponse> responses
    )
    {
        var parameters = spec.Resolve(overrides);
        using var scope = torch.NewDisposeScope();
        int k = responses.Count;
        var policy = torch.tensor(responses.Select(r => r.PolicyLogp).ToArray(), [1, k]).requires_grad_(); // (1, K)
        Tensor? Column(LossInputs flag) =>
            responses.All(r => Value(r, flag) is not null)
                ? torch.tensor(responses.Select(r => Value(r, flag)!.Value).ToArray(), [1, k])
                : null;
        var batch = new LossBatch(
            policy,
            Column(LossInputs.Reference),
            Column(LossInputs.TokenCounts),
            Column(LossInputs.Scores)
        );
        var loss = spec.PerPrompt(batch, parameters).mean();
        loss.backward();
        return new LossEvaluation(
            spec.Name,
            parameters.Values,
            loss.item<double>(),
            policy.grad!.data<double>().ToArray()
        );
    }

    /// <summary>The command's JSON output: every evaluation plus the skipped losses (a non-finite value is written as
    /// "NaN"/"Infinity").</summary>
    public static string ToJson(int responses, List<LossEvaluation> results, List<(string Name, string Reason)> skipped)
    {
        var output = new
        {
            responses,
            losses = results.Select(r => new
            {
                name = r.Name,
                hyperparameters = r.HyperParameters,
                value = r.Value,
                grad_policy_logp = r.GradPolicyLogps,
            }),
            skipped = skipped.Select(s => new { name = s.Name, reason = s.Reason }),
        };
        return JsonSerializer.Serialize(
            output,
            new JsonSerializerOptions
            {
                WriteIndented = true,
                NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
            }
        );
    }
}
