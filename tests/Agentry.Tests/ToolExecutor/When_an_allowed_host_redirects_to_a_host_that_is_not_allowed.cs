using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.Agents.Tools;
using Agentry.Tests.ToolExecutor;
using Agentry.Tools;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Agentry.Tests.ToolExecutor
{
    [TestFixture]
    public sealed class When_an_allowed_host_redirects_to_a_host_that_is_not_allowed
    {
        [Test]
        public async Task Should_not_fetch_the_host_that_is_not_allowed()
        {
            var secretFetched = false;
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            await using var server = builder.Build();
            server.MapGet("/secret", () =>
            {
                secretFetched = true;
                return Results.Text("internal secret", "text/plain");
            });
            Uri address = null!;
            // 127.0.0.1 is allowed; "localhost" (the same server, reached by another name) is not.
            server.MapGet("/hop", () => Results.Redirect(new UriBuilder(address) { Host = "localhost", Path = "/secret" }.Uri.ToString()));
            await server.StartAsync();
            address = new Uri(server.Urls.Single());
            await using var services = ToolServices.Build(new Dictionary<string, string?> { ["Tools:HttpGet:AllowedHosts:0"] = "127.0.0.1", ["Tools:HttpGet:PrivateHosts:0"] = "127.0.0.1" });
            var tool = services.GetServices<ITool>().OfType<HttpGetTool>().Single();

            string? output = null;
            ToolException? refusal = null;
            try
            {
                output = await tool.InvokeAsync(
                    JsonSerializer.SerializeToElement(new { url = new Uri(address, "/hop").ToString() }),
                    new ToolInvocation(Guid.NewGuid(), "tenant-1", "assistant", 1, "c1"),
                    CancellationToken.None);
            }
            catch (ToolException e)
            {
                refusal = e;
            }

            await server.StopAsync();
            Assert.That(secretFetched, Is.False, "the tool followed a redirect to a host that is not on the allow-list");
            Assert.That(output ?? "", Does.Not.Contain("internal secret"));
            Assert.That(refusal?.Kind, Is.Not.EqualTo(ToolErrorKind.None));
        }
    }
}
