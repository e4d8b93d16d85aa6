using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.ToolExecutor;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor;

[TestFixture]
public sealed class When_web_search_is_configured
{
    /// The plug-in point as an operator would use it; it answers from a fixed list.
    private sealed class FixedProvider : IWebSearchProvider
    {
        public string Name => "fixed";

        public Task<IReadOnlyList<WebSearchResult>> SearchAsync(string query, int count, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<WebSearchResult>>([new WebSearchResult($"About {query}", new Uri("https://example.org/a"), "A page.")]);
    }

    [Test]
    public void Should_not_offer_web_search_without_a_provider()
    {
        Assert.That(ToolCatalog.Of(BuiltInTools.Packs, null).Contains("web_search"), Is.False);
        using var services = ToolServices.Build();
        Assert.That(services.GetServices<ITool>().Select(t => t.Name), Does.Not.Contain("web_search"));
    }

    [Test]
    public async Task Should_search_through_the_named_provider()
    {
        var services = ToolServices.Create(new Dictionary<string, string?> { [WebSearchTool.ProviderKey] = "fixed" });
        services.AddSingleton<IWebSearchProvider, FixedProvider>();
        await using var provider = services.BuildServiceProvider();
        var tool = provider.GetRequiredService<ToolRegistry>().Find("web_search")!;

        var output = await tool.InvokeAsync(JsonSerializer.SerializeToElement(new { query = "otters" }), new ToolInvocation(Guid.NewGuid(), "t", "a", 1, "c"), CancellationToken.None);

        Assert.That(output, Is.EqualTo($"1. About otters{Environment.NewLine}   https://example.org/a{Environment.NewLine}   A page."));
    }

    [Test]
    public void Should_stop_at_start_when_the_named_provider_is_not_registered()
    {
        using var services = ToolServices.Create(new Dictionary<string, string?> { [WebSearchTool.ProviderKey] = "bing" }).BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<ToolRegistry>())!;

        Assert.That(error.Message, Does.StartWith("Tools:WebSearch:Provider names the web search provider 'bing', but no IWebSearchProvider of that name is registered"));
    }
}
