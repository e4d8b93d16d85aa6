namespace Agentry.Evaluation.Statistics;

/// A case's verdict over its trials.
public enum CaseVerdict
{
    Fail,
    Unstable,
    Pass,
}

/// Wilson's score interval for a pass rate (95 %): unlike the plain k/n ± margin it stays inside
/// [0, 1] and is honest with few trials (1 of 1 is [0.21, 1], not [1, 1]).
public static class Wilson
{
    public const double Z95 = 1.959963984540054;

    public static (double Lower, double Upper) Interval(int passes, int trials, double z = Z95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(passes);
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, passes);
        if (trials == 0)
        {
            return (0, 1);
        }

        double n = trials;
        var p = passes / n;
        var z2 = z * z;
        var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        var margin = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return (Math.Max(0, centre - margin), Math.Min(1, centre + margin));
    }
}

/// The rule that turns a case's trials into a verdict, so that a gate is stable from run to run:
/// - one trial: the case passes or fails as that trial did (there is no interval to speak of);
/// - several: Pass when the Wilson 95 % interval's lower bound is at least the threshold, Fail when
///   its upper bound is below the threshold, Unstable otherwise (the trials cannot tell).
/// Unstable is not a pass: `agentry eval` exits 1 on it, and against a baseline it counts as a
/// regression from Pass (and Fail to Unstable as an improvement).
public static class VerdictRule
{
    public static CaseVerdict Of(int passes, int trials, double threshold)
    {
        if (trials == 1)
        {
            return passes == 1 ? CaseVerdict.Pass : CaseVerdict.Fail;
        }

        var (lower, upper) = Wilson.Interval(passes, trials);
        return lower >= threshold ? CaseVerdict.Pass : upper < threshold ? CaseVerdict.Fail : CaseVerdict.Unstable;
    }
}

public static class Percentiles
{
    /// Nearest-rank percentile (p from 0 to 100) of the values; zero when there are none.
    public static TimeSpan Of(IEnumerable<TimeSpan> values, double p)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
