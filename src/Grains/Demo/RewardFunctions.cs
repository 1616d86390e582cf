using System.Net.Http.Json;
using AlignCluster.Contracts;

namespace AlignCluster.Grains.Demo;

/// <summary>Rates a response to a prompt (higher is better): a rule plugin, a reward-model checkpoint or an HTTP
/// judge.</summary>
public interface IRewardFunction
{
    string Name { get; }
    Task<double[]> RateAsync(
        IReadOnlyList<(int[] Prompt, int[] Response)> items,
        CancellationToken cancellationToken = default
    );
}

/// <summary>The reverse_digits oracle over the toy vocabulary (<see cref="ReverseDigitsTask.Reward"/>).</summary>
public sealed class ReverseDigitsOracle : IRewardFunction
{
    public string Name => ReverseDigitsTask.Name;

    public Task<double[]> RateAsync(
        IReadOnlyList<(int[] Prompt, int[] Response)> items,
        CancellationToken cancellationToken = default
    ) =>
        Task.FromResult(
            items
                .Select(i => ReverseDigitsTask.Reward(ToyVocabulary.Decode(i.Prompt), ToyVocabulary.Decode(i.Response)))
                .ToArray()
        );
}

/// <summary>
/// An external judge: POSTs <c>{"items":[{"prompt":[ids],"response":[ids]}]}</c> and expects <c>{"scores":[…]}</c>
/// with one finite score per item.
/// </summary>
public sealed class HttpJudge(Uri endpoint, HttpClient? client = null) : IRewardFunction
{
    private readonly HttpClient _client = client ?? new HttpClient { Timeout = TimeSpan.FromMinutes(2) };

    public string Name => $"http:{endpoint}";

    private sealed record Item(int[] Prompt, int[] Response);

    private sealed record Request(Item[] Items);

    private sealed record Reply(double[]? Scores);

    public async Task<double[]> RateAsync(
        IReadOnlyList<(int[] Prompt, int[] Response)> items,
        CancellationToken cancellationToken = default
    )
    {
        using var response = await _client.PostAsJsonAsync(
            endpoint,
            new Request(items.Select(i => new Item(i.Prompt, i.Response)).ToArray()),
            cancellationToken
        );
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException(
                $"reward judge {endpoint} answered {(int)response.StatusCode} {response.ReasonPhrase}"
            );
        var reply = await response.Content.ReadFromJsonAsync<Reply>(cancellationToken);
        if (reply?.Scores is not { } scores || scores.Length != items.Count || scores.Any(s => !double.IsFinite(s)))
            throw new InvalidDataException(
                $"reward judge {endpoint} must answer {{\"scores\": [...]}} with {items.Count} finite numbers"
            );
        return scores;
    }
}

/// <summary>Builds the reward function a <see cref="RewardConfig"/> names.</summary>
public static class RewardFunctions
{
    public static IRewardFunction Create(RewardConfig config) =>
        config.Kind switch
        {
            "rule" when config.Name == ReverseDigitsTask.Name => new ReverseDigitsOracle(),
            "rule" => throw new ArgumentException(
                $"unknown reward rule '{config.Name}'; known: {ReverseDigitsTask.Name}"
            ),
            "http" => new HttpJudge(new Uri(config.Name)),
            "model" => RewardModelFunction.For(config.Name),
            _ => throw new ArgumentException($"unknown reward kind '{config.Kind}'; known: rule, http, model"),
        };
}
