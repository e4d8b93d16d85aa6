using Agentry.Contracts;
using MassTransit;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Gateway.Security;

/// Every human decision and admin action taken through the Gateway goes to the audit trail that
/// Memory keeps (docs/security.md): who (the credential), when, what, from where.
public static class Audit
{
    public static Task RecordAsync(this IPublishEndpoint bus, HttpContext http, string action, Guid? runId = null, string? target = null, string? detail = null) =>
        bus.Publish(
            new AuditRecorded(NewId.NextGuid(), http.User.Tenant(), http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(), http.User.Actor(), action, http.Source(), runId, target, detail),
            http.RequestAborted);
}
