using System.Globalization;
using System.Net;
using System.Text;

namespace Agentry.Evaluation.Reports;

/// One point of a line chart: its label under the axis, its value, the text shown on hover, and
/// whether it is the run the report is about (drawn ringed).
public sealed record ChartPoint(string Id, string Label, double Value, string Tooltip, bool Current);

/// Inline SVG charts, drawn here rather than by a script library so that the report is one file
/// that opens offline and shows the same thing in every browser (and in a screenshot test).
public static class SvgCharts
{
    private const double Width = 560;
    private const double Height = 220;
    private const double Left = 64;
    private const double Right = 16;
    private const double Top = 16;
    private const double Bottom = 44;
    private const double PlotWidth = Width - Left - Right;
    private const double PlotHeight = Height - Top - Bottom;
    private const int MostXLabels = 6;
    private static readonly int[] NiceMultiples = [1, 2, 5, 10];

    /// A line over the points in order, with the y axis from 0 to yMax and a gridline at each tick.
    public static string Line(string id, string title, IReadOnlyList<ChartPoint> points, double yMax, IReadOnlyList<double> ticks, Func<double, string> format)
    {
        var svg = Open(id, title);
        foreach (var tick in ticks)
        {
            var y = Y(tick, yMax);
            svg.Append(Invariant($"<line class=\"grid\" x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Width - Right}\" y2=\"{y:0.#}\"/>"));
            svg.Append(Invariant($"<text class=\"axis\" x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{Encode(format(tick))}</text>"));
        }

        var xs = points.Select((_, i) => points.Count == 1 ? Left + (PlotWidth / 2) : Left + (i * PlotWidth / (points.Count - 1))).ToList();
        if (points.Count > 1)
        {
            svg.Append("<polyline class=\"series\" points=\"")
                .AppendJoin(' ', points.Select((p, i) => Invariant($"{xs[i]:0.#},{Y(p.Value, yMax):0.#}")))
                .Append("\"/>");
        }

        var labelEvery = (int)Math.Ceiling(points.Count / (double)MostXLabels);
        for (var i = 0; i < points.Count; i++)
        {
            var point = points[i];
            svg.Append(Invariant($"<circle class=\"point{(point.Current ? " current" : "")}\" cx=\"{xs[i]:0.#}\" cy=\"{Y(point.Value, yMax):0.#}\" r=\"{(point.Current ? 6 : 4)}\" data-run=\"{Encode(point.Id)}\" data-value=\"{point.Value:0.######}\">"))
                .Append("<title>").Append(Encode(point.Tooltip)).Append("</title></circle>");
            if (point.Current || (points.Count - 1 - i) % labelEvery == 0)
            {
                // The end labels lean inwards so that they are not cut at the chart's edges.
                var anchor = points.Count == 1 ? "middle" : i == 0 ? "start" : i == points.Count - 1 ? "end" : "middle";
                svg.Append(Invariant($"<text class=\"axis\" x=\"{xs[i]:0.#}\" y=\"{Height - Bottom + 18}\" text-anchor=\"{anchor}\">{Encode(point.Label)}</text>"));
            }
        }

        return Close(svg);
    }

    /// Bars of how many latencies fall in each of a few equal bins from 0 s, the bin width rounded
    /// to 1, 2 or 5 times a power of ten so that the edges read as plain numbers.
    public static string Histogram(string id, string title, IReadOnlyList<TimeSpan> latencies)
    {
        var seconds = latencies.Select(l => l.TotalSeconds).ToList();
        var binCount = Math.Clamp((int)Math.Ceiling(Math.Sqrt(seconds.Count)), 1, 12);
        var binWidth = NiceStep(Math.Max(seconds.DefaultIfEmpty(0).Max(), 0.001) / binCount);
        // The largest latency must fall inside the last bin, not on its right edge.
        while (binCount * binWidth <= seconds.DefaultIfEmpty(0).Max())
        {
            binCount++;
        }

        var counts = new int[binCount];
        foreach (var s in seconds)
        {
            counts[Math.Min((int)(s / binWidth), binCount - 1)]++;
        }

        var yMax = Math.Max(1, counts.Max());
        var svg = Open(id, title);
        foreach (var tick in CountTicks(yMax))
        {
            var y = Y(tick, yMax);
            svg.Append(Invariant($"<line class=\"grid\" x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Width - Right}\" y2=\"{y:0.#}\"/>"));
            svg.Append(Invariant($"<text class=\"axis\" x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{tick}</text>"));
        }

        var barWidth = PlotWidth / binCount;
        for (var i = 0; i < binCount; i++)
        {
            var (from, to) = (i * binWidth, (i + 1) * binWidth);
            var y = Y(counts[i], yMax);
            svg.Append(Invariant($"<rect class=\"bin\" x=\"{Left + (i * barWidth) + 1:0.#}\" y=\"{y:0.#}\" width=\"{barWidth - 2:0.#}\" height=\"{Top + PlotHeight - y:0.#}\" data-from=\"{from:0.###}\" data-to=\"{to:0.###}\" data-count=\"{counts[i]}\">"))
                .Append(Invariant($"<title>{from:0.###} s to {to:0.###} s: {counts[i]} trial(s)</title></rect>"));
            svg.Append(Invariant($"<text class=\"axis\" x=\"{Left + (i * barWidth):0.#}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{from:0.###}</text>"));
        }

        svg.Append(Invariant($"<text class=\"axis\" x=\"{Width - Right:0.#}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{binCount * binWidth:0.###}</text>"));
        svg.Append(Invariant($"<text class=\"axis\" x=\"{Left + (PlotWidth / 2):0.#}\" y=\"{Height - 6}\" text-anchor=\"middle\">latency (s)</text>"));
        return Close(svg);
    }

    /// The smallest of 1, 2 or 5 times a power of ten that is at least the value.
    public static double NiceStep(double value)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        return NiceMultiples.Select(m => m * power).First(step => step >= value * (1 - 1e-9));
    }

    private static IEnumerable<int> CountTicks(int max)
    {
        var step = (int)Math.Max(1, NiceStep(max / 4.0));
        for (var tick = 0; tick <= max; tick += step)
        {
            yield return tick;
        }
    }

    private static double Y(double value, double yMax) => Top + (PlotHeight * (1 - (yMax <= 0 ? 0 : value / yMax)));

    private static StringBuilder Open(string id, string title) =>
        new StringBuilder(Invariant($"<svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{Encode(title)}\" xmlns=\"http://www.w3.org/2000/svg\">"))
            .Append(Invariant($"<line class=\"axis-line\" x1=\"{Left}\" y1=\"{Top + PlotHeight}\" x2=\"{Width - Right}\" y2=\"{Top + PlotHeight}\"/>"));

    private static string Close(StringBuilder svg) => svg.Append("</svg>").ToString();

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
