using Agentry.ServiceDefaults;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Gateway.Triggers.Schedules;

/// Polls the schedules every Triggers:Schedules:PollInterval in every Gateway replica (and in
/// `agentry serve`); the store's claims make one of them fire each due time.
public sealed class ScheduleService(Scheduler scheduler, TimeProvider clock, IOptions<ScheduleOptions> options, ILogger<ScheduleService> logger)
    : PeriodicBackgroundService(clock, logger)
{
    protected override TimeSpan Interval =>
        options.Value.Enabled && scheduler.Schedules.Count > 0 ? options.Value.PollInterval : TimeSpan.Zero;

    protected override Task RunRoundAsync(CancellationToken stoppingToken) => scheduler.PollAsync(stoppingToken);
}
