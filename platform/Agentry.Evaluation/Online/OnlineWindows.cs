using Agentry.Agents.Evaluation;
using Agentry.Contracts;

namespace Agentry.Evaluation.Online;

/// An agent's scored runs fall into consecutive windows of alert.window runs, in the order the store
/// numbered them (1 to W, W+1 to 2W, ...). When a run closes a window, its mean is compared with the
/// window before: the baseline. Each window is compared once, by whichever replica recorded the run
/// that closed it, and a drop is named by where the window ends, so a repeat is the same alert.
public static class OnlineWindows
{
    /// Scores are means of fractions: a drop computed as 0.19999999999999996 is a drop of 0.2.
    private const double Tolerance = 1e-9;

    public static async Task<OnlineScoreDropped?> DropAsync(IOnlineGradeStore store, OnlineRunGrades closing, OnlineAlert alert, CancellationToken cancellationToken)
    {
        var end = closing.Sequence;
        if (end == 0 || end % alert.Window != 0 || end < 2L * alert.Window)
        {
            return null;
        }

        var runs = await store.ScoredAsync(closing.Agent, end - (2L * alert.Window) + 1, end, cancellationToken);
        if (runs.Count != 2 * alert.Window)
        {
            throw new InvalidOperationException($"The online grade store returned {runs.Count} scored runs of {closing.Agent} up to {end}, not the {2 * alert.Window} of two windows.");
        }

        var baseline = runs.Take(alert.Window).Average(r => r.Score!.Value);
        var latest = runs.Skip(alert.Window).Average(r => r.Score!.Value);
        return baseline - latest >= alert.Drop - Tolerance
            ? new OnlineScoreDropped(closing.Agent, closing.TenantId, closing.RunId, end, alert.Window, baseline, latest, alert.Drop)
            : null;
    }
}
