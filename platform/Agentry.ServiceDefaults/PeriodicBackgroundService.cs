using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Agentry.ServiceDefaults;

/// A background loop that no error of its own stops: a round that throws is logged and the next
/// round tries again, because a transient fault (a broker restart, a Redis timeout) must not take
/// the service down with it (.NET's default for a failed BackgroundService is to stop the host). A
/// service stops only when a round decides so (StopService), and then says why as critical.
public abstract partial class PeriodicBackgroundService(TimeProvider clock, ILogger logger) : BackgroundService
{
    protected TimeProvider Clock { get; } = clock;

    /// How long between rounds; zero or less turns the loop off.
    protected abstract TimeSpan Interval { get; }

    protected abstract Task RunRoundAsync(CancellationToken stoppingToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Interval <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            using var timer = new PeriodicTimer(Interval, Clock);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RunRoundAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    LogRoundFailed(logger, GetType().Name, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// Stops the service on purpose, with exit code 1, so that its orchestrator starts a fresh one.
    protected void StopService(IHostApplicationLifetime lifetime, string why)
    {
        LogStopping(logger, GetType().Name, why);
        Environment.ExitCode = 1;
        lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Loop}: this round failed; the service keeps running and the next round tries again.")]
    private static partial void LogRoundFailed(ILogger logger, string loop, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Loop} is stopping the service (exit code 1): {Why}")]
    private static partial void LogStopping(ILogger logger, string loop, string why);
}
