using AlignCluster.Grains.Policy;

namespace AlignCluster.Grains.Demo;

/// <summary>
/// The demo's synthetic task: reverse a string of 3–6 digits. A program checks answers, so every response gets a
/// graded oracle reward — the fraction of positions right, counted over the longer of answer and target, so a wrong
/// length costs too. Demonstrations are imperfect: with probability <c>noise</c> one digit is replaced at random.
/// </summary>
public sealed class ReverseDigitsTask(int minLength, int maxLength)
{
    public const string Name = "reverse_digits";

    public int MinLength { get; } = minLength;
    public int MaxLength { get; } = maxLength;

    /// <summary>Distinct random prompts (digit strings), deterministic for a seed.</summary>
    public List<string> SamplePrompts(int count, ulong seed, ISet<string>? exclude = null)
    {
        var rng = new SeededRandom(seed);
        var seen = new HashSet<string>(exclude ?? new HashSet<string>());
        var prompts = new List<string>();
        for (int attempts = 0; prompts.Count < count && attempts < count * 100; attempts++)
        {
            int length = MinLength + rng.Next(MaxLength - MinLength + 1);
            var digits = new char[length];
            for (int i = 0; i < length; i++)
                digits[i] = (char)('0' + rng.Next(10));
            var prompt = new string(digits);
            if (seen.Add(prompt))
                prompts.Add(prompt);
        }
        return prompts;
    }

    public static string Solve(string prompt) => new(prompt.Reverse().ToArray());

    /// <summary>Graded oracle reward in [0, 1]: matching positions / max(|answer|, |target|).</summary>
    public static double Reward(string prompt, string answer)
    {
        string target = Solve(prompt);
        int n = Math.Max(target.Length, answer.Length);
        if (n == 0)
            return 1;
        int right = 0;
        for (int i = 0; i < Math.Min(target.Length, answer.Length); i++)
            if (target[i] == answer[i])
                right++;
        return (double)right / n;
    }

    /// <summary>An imperfect demonstration: the right answer, with one digit replaced at random with probability
    /// <paramref name="noise"/>.</summary>
    public static string Demonstrate(string prompt, double noise, SeededRandom rng)
    {
        var answer = Solve(prompt).ToCharArray();
        if (rng.NextDouble() < noise)
        {
            int i = rng.Next(answer.Length);
            answer[i] = (char)('0' + (answer[i] - '0' + 1 + rng.Next(9)) % 10); // a different digit
        }
        return new string(answer);
    }
}
