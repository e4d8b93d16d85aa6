using System.Text;
using Agentry.Agents;
using Agentry.Agents.Triggers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Agentry.Gateway.Triggers.Webhooks;

/// The webhooks' signing secrets, from configuration `Triggers:Secrets:NAME` (environment
/// Triggers__Secrets__NAME, a mounted secret, a vault provider): an agent's YAML names a secret,
/// never holds it. Read at each delivery, so a configuration provider that reloads rotates them.
public sealed class WebhookSecrets(IConfiguration configuration)
{
    public const string Section = "Triggers:Secrets";

    /// The secret's bytes (its text as UTF-8, as GitHub and Zendesk use it), or null when unset.
    public byte[]? Of(string name) =>
        configuration[$"{Section}:{name}"] is { Length: > 0 } secret ? Encoding.UTF8.GetBytes(secret) : null;

    /// The setting that holds the secret, as an operator writes it.
    public static string SettingOf(string name) => $"{Section}:{name} (environment Triggers__Secrets__{name})";
}

/// At start, names every webhook whose secret is not configured: the Gateway still starts (the
/// other agents and triggers work), and those webhooks refuse their deliveries with 503.
public sealed partial class WebhookSecretsCheck(AgentCatalog agents, WebhookSecrets secrets, ILogger<WebhookSecretsCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var agent in agents.All)
        {
            foreach (var trigger in agent.Triggers.OfType<WebhookTrigger>().Where(t => secrets.Of(t.Secret) is null))
            {
                LogSecretMissing(logger, agent.Name, trigger.Name, WebhookSecrets.SettingOf(trigger.Secret));
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Agent}/{Trigger} has no signing secret: set {Setting}. Until then its deliveries are refused with 503 and start nothing.")]
    private static partial void LogSecretMissing(ILogger logger, string agent, string trigger, string setting);
}
