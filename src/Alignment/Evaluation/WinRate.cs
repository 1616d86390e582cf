namespace AlignCluster.Alignment.Evaluation;

/// <summary>Outcome of one judged comparison between the candidate model and the baseline.</summary>
public enum Verdict
{
    CandidateWins,
    BaselineWins,
    Tie,
}

/// <summary>Head-to-head counts and MC-PO's adjusted win-rate (§6.1), where a tie counts half a win.</summary>
public sealed record WinRate(int CandidateWins, int BaselineWins, int Ties)
{
    public int Total => CandidateWins + BaselineWins + Ties;

    /// <summary><c>(N_cand + N_tie/2) / (N_cand + N_base + N_tie)</c>; NaN when there are no comparisons.</summary>
    public double Adjusted => Total == 0 ? double.NaN : (CandidateWins + Ties / 2.0) / Total;

    /// <summary>
    /// Standard error of <see cref="Adjusted"/> treating each comparison as an independent draw of
    /// 1 / ½ / 0: sample standard deviation / √n (NaN for fewer than 2 comparisons).
    /// </summary>
    public double StandardError
    {
        get
        {
            if (Total < 2)
                return double.NaN;
            double p = Adjusted;
            double sumSquares = CandidateWins * (1 - p) * (1 - p) + Ties * (0.5 - p) * (0.5 - p) + BaselineWins * p * p;
            return Math.Sqrt(sumSquares / (Total - 1) / Total);
        }
    }

    public static WinRate From(IEnumerable<Verdict> verdicts)
    {
        int wins = 0,
            losses = 0,
            ties = 0;
        foreach (var v in verdicts)
        {
            if (v == Verdict.CandidateWins)
                wins++;
            else if (v == Verdict.BaselineWins)
                losses++;
            else
                ties++;
        }
        return new WinRate(wins, losses, ties);
    }
}
