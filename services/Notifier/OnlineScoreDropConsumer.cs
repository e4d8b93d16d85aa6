using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Agentry.Notifier;

/// The body an agent's webhook receives when its online evaluation scores drop.
public sealed record OnlineScoreDropNotice(
    string Event,
    string Agent,
    Guid RunId,
    long WindowEnd,
    int Window,
    double BaselineMean,
    double WindowMean,
    double Drop);

/// Tells the agent's channels that its online evaluation scores dropped. One notification per
/// window (its key names where the window ends), whichever Evaluator published it and how often.
public sealed partial class OnlineScoreDropConsumer(NotificationDispatcher dispatcher, ILogger<OnlineScoreDropConsumer> logger) : IConsumer<OnlineScoreDropped>
{
    public const string Event = "eval.online.dropped";

    public async Task Consume(ConsumeContext<OnlineScoreDropped> context)
    {
        var drop = context.Message;
        LogDropped(logger, drop.Agent, drop.WindowEnd, drop.BaselineMean, drop.WindowMean);
        var notice = new OnlineScoreDropNotice(Event, drop.Agent, drop.RunId, drop.WindowEnd, drop.Window, drop.BaselineMean, drop.WindowMean, drop.Drop);
        var text = string.Create(CultureInfo.InvariantCulture,
            $"The online evaluation of agent {drop.Agent} dropped: the mean score of its last {drop.Window} graded runs is {drop.WindowMean:0.###}, down from {drop.BaselineMean:0.###} over the {drop.Window} before (an alert at a drop of {drop.Drop:0.###}).");
        var notification = new Notification(Event, $"Online evaluation of {drop.Agent} dropped to {drop.WindowMean.ToString("0.##", CultureInfo.InvariantCulture)}", text,
            Link: null, JsonSerializer.SerializeToElement(notice, JsonSerializerOptions.Web), Key: $"{Event}:{drop.Agent}:{drop.WindowEnd}");
        await dispatcher.NotifyAsync(context, drop.RunId, drop.TenantId, drop.Agent, notification, context.CancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Online evaluation of agent {Agent} dropped at scored run {WindowEnd}: {BaselineMean:0.###} to {WindowMean:0.###}.")]
    private static partial void LogDropped(ILogger logger, string agent, long windowEnd, double baselineMean, double windowMean);
}
