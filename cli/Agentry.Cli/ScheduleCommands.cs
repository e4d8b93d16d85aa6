using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Gateway.Triggers.Schedules;

namespace Agentry.Cli;

/// `agentry schedules`: the agents' schedules on a running deployment, through its Gateway: list
/// them (paused, next fire times, last fire, missed), pause and resume one, read its history.
public static class ScheduleCommands
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static Task<int> ListAsync(GatewayTarget gateway, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        CallAsync(gateway, error, async http =>
        {
            using var response = await http.GetAsync("schedules", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return await RefusedAsync(response, error, cancellationToken);
            }

            var schedules = (await response.Content.ReadFromJsonAsync<ScheduleList>(Web, cancellationToken))!.Schedules;
            if (schedules.Count == 0)
            {
                await output.WriteLineAsync("No agent of your tenant has a schedule trigger.");
                return ExitCodes.Completed;
            }

            foreach (var schedule in schedules)
            {
                await output.WriteLineAsync($"{schedule.Agent}/{schedule.Trigger}  \"{schedule.Cron}\" in {schedule.TimeZone}, misfire {schedule.Misfire}"
                    + (schedule.Paused ? $"  PAUSED since {Time(schedule.PausedAt)} by {schedule.PausedBy}" : ""));
                await output.WriteLineAsync($"  next: {(schedule.NextFires.Count == 0 ? "never" : string.Join("; ", schedule.NextFires.Select(ScheduleTimes.Describe)))}");
                await output.WriteLineAsync($"  last fired: {(schedule.LastFired is { } last ? $"{Time(last.Due)} (run {last.RunId})" : "never")}"
                    + $"; fired {schedule.Fired}, missed {schedule.Missed}, skipped while paused {schedule.Skipped}, refused {schedule.Refused}");
            }

            return ExitCodes.Completed;
        });

    public static Task<int> SetPausedAsync(GatewayTarget gateway, string agent, string trigger, bool paused, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        CallAsync(gateway, error, async http =>
        {
            using var response = await http.PostAsync($"schedules/{Uri.EscapeDataString(agent)}/{Uri.EscapeDataString(trigger)}/{(paused ? "pause" : "resume")}", null, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return await RefusedAsync(response, error, cancellationToken);
            }

            var answer = (await response.Content.ReadFromJsonAsync<SchedulePauseResponse>(Web, cancellationToken))!;
            await output.WriteLineAsync((paused, answer.Changed) switch
            {
                (true, true) => $"Paused {agent}/{trigger}: its due times are recorded as skipped until it is resumed.",
                (true, false) => $"{agent}/{trigger} was already paused.",
                (false, true) => $"Resumed {agent}/{trigger}: it fires again from its next due time.",
                _ => $"{agent}/{trigger} was not paused.",
            });
            return ExitCodes.Completed;
        });

    public static Task<int> HistoryAsync(GatewayTarget gateway, string agent, string trigger, int limit, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        CallAsync(gateway, error, async http =>
        {
            using var response = await http.GetAsync($"schedules/{Uri.EscapeDataString(agent)}/{Uri.EscapeDataString(trigger)}/history?limit={limit}", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return await RefusedAsync(response, error, cancellationToken);
            }

            var entries = (await response.Content.ReadFromJsonAsync<ScheduleHistory>(Web, cancellationToken))!.Entries;
            if (entries.Count == 0)
            {
                await output.WriteLineAsync($"{agent}/{trigger} has not been due yet.");
                return ExitCodes.Completed;
            }

            foreach (var entry in entries)
            {
                var due = entry.Count > 1 ? $"{entry.Count} due times from {Time(entry.Due)} to {Time(entry.Until)}" : $"due {Time(entry.Due)}";
                var what = entry.Kind switch
                {
                    ScheduleEntryKind.Fired => $"fired{(entry.CatchUp ? " (catch-up)" : "")}: run {entry.RunId}",
                    ScheduleEntryKind.Missed => "missed",
                    ScheduleEntryKind.Skipped => "skipped",
                    _ => "refused",
                };
                await output.WriteLineAsync($"{due}  {what}  at {Time(entry.At)}{(entry.Detail is { Length: > 0 } detail ? $": {detail}" : "")}");
            }

            return ExitCodes.Completed;
        });

    private static string Time(DateTimeOffset? at) => at?.ToString("u", CultureInfo.InvariantCulture) ?? "?";

    private static async Task<int> RefusedAsync(HttpResponseMessage response, TextWriter error, CancellationToken cancellationToken)
    {
        await error.WriteLineAsync(await ApprovalCommands.ProblemAsync(response, cancellationToken));
        return response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest ? ExitCodes.BadInput : ExitCodes.NotCompleted;
    }

    private static async Task<int> CallAsync(GatewayTarget gateway, TextWriter error, Func<HttpClient, Task<int>> call)
    {
        using var http = await ApprovalCommands.GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return ExitCodes.BadInput;
        }

        try
        {
            return await call(http);
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync(ApprovalCommands.Unreachable(gateway, e));
            return ExitCodes.NotCompleted;
        }
    }
}
