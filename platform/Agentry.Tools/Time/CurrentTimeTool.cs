using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;

namespace Agentry.Tools;

public sealed class CurrentTimeTool(TimeProvider clock) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("current_time", "Returns the current date and time, in UTC or in an IANA time zone such as Europe/Paris.", ToolSchema.ClosedObject("""
        "timezone": { "type": "string", "description": "An IANA time zone id such as Asia/Tokyo; UTC when absent." }
        """));

    public static ToolPack Pack { get; } = ToolPack.Of([Descriptor], (services, _) => services.AddSingleton<ITool, CurrentTimeTool>());

    public string Name => Descriptor.Name;

    public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (!arguments.TryGetProperty("timezone", out var zoneArgument) || zoneArgument.GetString() is not { Length: > 0 } zoneId)
        {
            return Task.FromResult($"{now.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)} (UTC, {now.DayOfWeek})");
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(zoneId, out var zone))
        {
            throw new ToolException(ToolErrorKind.InvalidArguments, $"Unknown time zone '{zoneId}'; use an IANA id such as Europe/Paris or Asia/Tokyo.");
        }

        var local = TimeZoneInfo.ConvertTime(now, zone);
        return Task.FromResult($"{local.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture)} ({zone.Id}, {local.DayOfWeek})");
    }
}
