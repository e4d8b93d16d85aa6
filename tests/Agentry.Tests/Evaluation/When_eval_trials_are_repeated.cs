using Agentry.Evaluation.Statistics;

namespace Agentry.Tests.Evaluation;

public sealed class When_eval_trials_are_repeated
{
    // Reference values of the Wilson score interval at 95 % (z = 1.96).
    [TestCase(0, 10, 0.0, 0.2775)]
    [TestCase(5, 10, 0.2366, 0.7634)]
    [TestCase(10, 10, 0.7225, 1.0)]
    [TestCase(1, 1, 0.2065, 1.0)]
    [TestCase(8, 10, 0.4902, 0.9433)]
    public void Should_compute_the_wilson_interval(int passes, int trials, double lower, double upper)
    {
        var interval = Wilson.Interval(passes, trials);
        Assert.That(interval.Lower, Is.EqualTo(lower).Within(0.0005));
        Assert.That(interval.Upper, Is.EqualTo(upper).Within(0.0005));
    }

    [TestCase(1, 1, 0.5, CaseVerdict.Pass)]
    [TestCase(0, 1, 0.5, CaseVerdict.Fail)]
    [TestCase(5, 5, 0.5, CaseVerdict.Pass)]   // lower bound 0.57
    [TestCase(3, 3, 0.5, CaseVerdict.Unstable)] // lower bound 0.44: three trials cannot show 0.5
    [TestCase(2, 4, 0.5, CaseVerdict.Unstable)]
    [TestCase(0, 5, 0.5, CaseVerdict.Fail)]   // upper bound 0.43
    [TestCase(9, 10, 0.8, CaseVerdict.Unstable)]
    [TestCase(20, 20, 0.8, CaseVerdict.Pass)] // lower bound 0.84
    public void Should_give_the_verdict_the_rule_states(int passes, int trials, double threshold, CaseVerdict verdict)
    {
        Assert.That(VerdictRule.Of(passes, trials, threshold), Is.EqualTo(verdict));
    }

    /// A case that passes 70 % of the time at a threshold of 0.5: with enough trials the verdict is
    /// the same in nearly every run (the gate does not flap), where a verdict on the raw pass rate of
    /// 5 trials would be read off noise. Simulated with fixed seeds, so the test is deterministic.
    [Test]
    public void Should_keep_a_clearly_passing_case_from_flapping_into_a_fail()
    {
        var verdicts = new List<CaseVerdict>();
        for (var seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var passes = Enumerable.Range(0, 20).Count(_ => random.NextDouble() < 0.7);
            verdicts.Add(VerdictRule.Of(passes, 20, 0.5));
        }

        Assert.That(verdicts, Has.None.EqualTo(CaseVerdict.Fail));
    }

    [Test]
    public void Should_take_nearest_rank_percentiles()
    {
        var latencies = new[] { 5, 1, 4, 2, 3, 6, 7, 8, 9, 10 }.Select(s => TimeSpan.FromSeconds(s)).ToList();
        Assert.That(Percentiles.Of(latencies, 50), Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(Percentiles.Of(latencies, 95), Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(Percentiles.Of([], 50), Is.EqualTo(TimeSpan.Zero));
    }
}
