using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Agentry.Planner.Tenants;

/// How many runs each tenant may have running at once (configuration section Tenants). The saga
/// enforces it when a goal arrives, so a GoalReceived published straight to the broker is held to
/// it as much as POST /runs.
public sealed class TenantOptions
{
    public const string Section = "Tenants";

    /// For every tenant without a limit of its own; 0 or less: no limit.
    public int MaxConcurrentRuns { get; set; } = 100;

    /// A tenant's own limit, by its exact tenant id: Tenants:Limits:acme:MaxConcurrentRuns.
    public Dictionary<string, TenantLimits> Limits { get; set; } = [];

    /// The tenant's limit (0 or less: none) and the setting it comes from, to name in a refusal.
    public (int Max, string Setting) MaxConcurrentRunsOf(string tenant) =>
        Limits.TryGetValue(tenant, out var own) && own.MaxConcurrentRuns is { } max
            ? (max, $"{Section}:Limits:{tenant}:MaxConcurrentRuns")
            : (MaxConcurrentRuns, $"{Section}:MaxConcurrentRuns");
}

public sealed class TenantLimits
{
    public int? MaxConcurrentRuns { get; set; }
}

/// The binder skips a tenant's entry it cannot read (Tenants:Limits:acme:MaxConcurrentRuns=lots, a
/// misspelt key, a value one level too high: Tenants:Limits:acme=5), which would silently leave the
/// tenant on the limit for all: the configuration itself is checked, so that the Planner refuses to
/// start and names the entry.
public sealed class TenantOptionsValidation(IConfiguration configuration) : IValidateOptions<TenantOptions>
{
    public ValidateOptionsResult Validate(string? name, TenantOptions options)
    {
        var problems = new List<string>();
        foreach (var tenant in configuration.GetSection($"{TenantOptions.Section}:Limits").GetChildren())
        {
            var setting = $"{tenant.Path}:{nameof(TenantLimits.MaxConcurrentRuns)}";
            var max = tenant[nameof(TenantLimits.MaxConcurrentRuns)];
            if (max is null)
            {
                problems.Add($"{tenant.Path} sets no {nameof(TenantLimits.MaxConcurrentRuns)}: set {setting} to a whole number (0 or less: no limit).");
            }
            else if (!int.TryParse(max, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                problems.Add($"{setting} is '{max}', not a whole number (0 or less: no limit).");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
