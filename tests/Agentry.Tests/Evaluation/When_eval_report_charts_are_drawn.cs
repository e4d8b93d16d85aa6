using System.Text.RegularExpressions;
using Agentry.Evaluation.Reports;

namespace Agentry.Tests.Evaluation;

public sealed partial class When_eval_report_charts_are_drawn
{
    [Test]
    public void Should_count_each_latency_in_the_bin_it_falls_in()
    {
        double[] seconds = [0.4, 0.9, 1.1, 1.9, 2.0, 4.99];
        var svg = SvgCharts.Histogram("h", "latency", [.. seconds.Select(TimeSpan.FromSeconds)]);
        var bins = BinPattern().Matches(svg).Select(m => (From: m.Groups[1].Value, To: m.Groups[2].Value, Count: int.Parse(m.Groups[3].Value))).ToList();
        // Six latencies: three bins (the square root, rounded up) of 2 s, the nice width above 4.99 / 3.
        Assert.That(bins, Is.EqualTo(new[] { ("0", "2", 4), ("2", "4", 1), ("4", "6", 1) }));
    }

    [Test]
    public void Should_widen_the_last_bin_rather_than_drop_a_latency_on_its_edge()
    {
        var svg = SvgCharts.Histogram("h", "latency", [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)]);
        Assert.That(BinPattern().Matches(svg).Sum(m => int.Parse(m.Groups[3].Value)), Is.EqualTo(2));
        Assert.That(BinPattern().Matches(svg).Last().Groups[2].Value, Is.Not.EqualTo("2"), "2 s is inside the last bin, not on its right edge");
    }

    [TestCase(0.003, 0.005)]
    [TestCase(1.0, 1.0)]
    [TestCase(1.2, 2.0)]
    [TestCase(23, 50)]
    public void Should_round_a_step_up_to_one_two_or_five_times_a_power_of_ten(double value, double step) =>
        Assert.That(SvgCharts.NiceStep(value), Is.EqualTo(step).Within(1e-12));

    [Test]
    public void Should_draw_one_point_per_value_with_the_current_one_ringed()
    {
        ChartPoint[] points = [new("a", "01-01", 0.5, "a", false), new("b", "01-02", 1, "b", true)];
        var svg = SvgCharts.Line("c", "pass rate", points, 1, [0, 1], v => $"{v:0%}");
        Assert.That(Regex.Count(svg, "<circle class=\"point"), Is.EqualTo(2));
        Assert.That(svg, Does.Contain("class=\"point current\"").And.Contain("data-run=\"b\""));
    }

    [GeneratedRegex("<rect class=\"bin\"[^>]*data-from=\"([0-9.]+)\" data-to=\"([0-9.]+)\" data-count=\"([0-9]+)\"")]
    private static partial Regex BinPattern();
}
