using System.Reflection;
using System.Security.Claims;
using Agentry.Gateway.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;

namespace Agentry.Gateway.WebConsole;

/// Who the credential says the caller is, and what it lets them do: the console shows only what they may.
public sealed record CallerView(string Name, string TenantId, IReadOnlyList<string> Roles);

/// The web console (docs/console.md) at /console: its files are built from console/ into this
/// assembly (decision 0026), so every host of the Gateway serves the same console with nothing to
/// copy beside it. The files are open to anyone, as a login page is; everything they show comes
/// from the API, with the credential the person signs in with.
public static class ConsoleEndpoints
{
    public const string Path = "/console";

    private const string ResourcePrefix = "console/";

    private static readonly Assembly Files = typeof(ConsoleEndpoints).Assembly;

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Redirect(Path + "/")).AllowAnonymous().ExcludeFromDescription();
        // Routing matches /console and /console/ alike: only the first is sent on, so that the page's relative links resolve.
        app.MapGet(Path, (HttpContext http) => http.Request.Path.Value!.EndsWith('/') ? Serve("index.html", http) : Results.Redirect(Path + "/"))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapGet(Path + "/{**file}", (string? file, HttpContext http) => Serve(string.IsNullOrEmpty(file) ? "index.html" : file, http))
            .AllowAnonymous().ExcludeFromDescription();

        app.MapGet("/me", (ClaimsPrincipal caller) =>
            Results.Ok(new CallerView(caller.Name(), caller.Tenant(), GatewayRoles.All.Where(caller.IsInRole).ToList())));
        return app;
    }

    private static IResult Serve(string file, HttpContext http)
    {
        if (Files.GetManifestResourceStream(ResourcePrefix + file) is not { } content)
        {
            return file == "index.html"
                ? Results.Problem("This Gateway was built without its console: build services/Gateway with node and npm on the PATH (docs/console.md).", statusCode: StatusCodes.Status404NotFound, title: "No console.")
                : Results.NotFound();
        }

        // The bundler names assets by their content, so they never change; the page that names them does.
        http.Response.Headers.CacheControl = file.StartsWith("assets/", StringComparison.Ordinal) ? "public, max-age=31536000, immutable" : "no-cache";
        return Results.Stream(content, ContentTypes.TryGetContentType(file, out var type) ? type : "application/octet-stream");
    }
}
