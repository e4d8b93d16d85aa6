using Agentry.Evaluation.Online;
using MassTransit;

namespace Agentry.Tests.Evaluation.Online;

/// Which completed runs are graded online: the share the agent asks for, decided by the run id alone.
public sealed class When_runs_are_sampled_online
{
    private const int Runs = 2000;

    /// Run ids as the runtime makes them: sequential NewIds, whose low bits would pick runs in streaks.
    private static readonly IReadOnlyList<Guid> RunIds = Enumerable.Range(0, Runs).Select(_ => NewId.NextGuid()).ToList();

    [TestCase(0.01)]
    [TestCase(0.1)]
    [TestCase(0.5)]
    [TestCase(0.9)]
    public void Should_sample_the_asked_share_within_binomial_bounds(double sample)
    {
        var sampled = RunIds.Count(id => OnlineSampling.IsSampled(id, sample));

        // Five standard deviations of a binomial count: a correct sampler falls outside them about
        // once in 1.7 million runs of this test; one that ignores or skews the rate does not fit.
        var expected = Runs * sample;
        var bound = 5 * Math.Sqrt(Runs * sample * (1 - sample));
        Assert.That(sampled, Is.InRange(expected - bound, expected + bound), $"{sampled} of {Runs} sampled at {sample}");
    }

    [Test]
    public void Should_spread_runs_evenly_over_the_unit_interval()
    {
        // Ten equal bins over [0, 1): each should hold a tenth, which a rate check alone would not show.
        var bins = RunIds.GroupBy(id => (int)(OnlineSampling.PositionOf(id) * 10)).ToDictionary(g => g.Key, g => g.Count());
        var bound = 5 * Math.Sqrt(Runs * 0.1 * 0.9);
        Assert.Multiple(() =>
        {
            foreach (var bin in Enumerable.Range(0, 10))
            {
                Assert.That(bins.GetValueOrDefault(bin), Is.InRange(Runs * 0.1 - bound, Runs * 0.1 + bound), $"bin {bin}");
            }
        });
    }

    [Test]
    public void Should_decide_the_same_for_a_run_every_time()
    {
        var first = RunIds.Select(id => OnlineSampling.IsSampled(id, 0.3)).ToList();
        var again = RunIds.Select(id => OnlineSampling.IsSampled(new Guid(id.ToString()), 0.3)).ToList();

        Assert.That(again, Is.EqualTo(first));
        Assert.That(OnlineSampling.PositionOf(Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff")),
            Is.EqualTo(OnlineSampling.PositionOf(Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff"))));
    }

    [Test]
    public void Should_sample_none_at_zero_and_every_run_at_one()
    {
        Assert.That(RunIds.Count(id => OnlineSampling.IsSampled(id, 0)), Is.Zero);
        Assert.That(RunIds.Count(id => OnlineSampling.IsSampled(id, 1)), Is.EqualTo(Runs));
    }

    [Test]
    public void Should_sample_a_run_at_a_higher_rate_whenever_it_is_sampled_at_a_lower_one()
    {
        // Raising the rate adds runs and drops none: the grades already stored stay a subset of the new sample.
        var low = RunIds.Where(id => OnlineSampling.IsSampled(id, 0.1)).ToList();
        Assert.That(low.All(id => OnlineSampling.IsSampled(id, 0.2)), Is.True);
    }
}
