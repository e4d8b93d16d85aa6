using Agentry.Gateway.Security;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Agentry.Tests.Gateway.WebConsole;

/// `agentry serve` with Debian's chromium opened on its console: a browser context per test, and
/// tabs signed in with keys of their own.
public abstract class ConsoleBrowserFixture : AgentryServerFixture
{
    private HeadlessChromium _chromium = null!;

    protected IBrowserContext Browser { get; private set; } = null!;

    [SetUp]
    public async Task OpenBrowser()
    {
        SetDefaultExpectTimeout(30_000);
        _chromium = await HeadlessChromium.LaunchAsync();
        Browser = await _chromium.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
    }

    [TearDown]
    public async Task CloseBrowser()
    {
        await Browser.DisposeAsync();
        await _chromium.DisposeAsync();
    }

    /// The console's address, at a route such as "#/runs".
    protected string ConsoleUrl(string at = "") => new Uri(LocalHttpServer.BaseAddressOf(App), "/console/" + at).ToString();

    /// A tab signed in with a new key of the default tenant: each tab keeps its own credential.
    protected async Task<IPage> SignedInTabAsync(string name, IReadOnlyList<string> roles, string at = "")
    {
        var page = await Browser.NewPageAsync();
        // A script error would otherwise show only as a page that never fills in.
        page.PageError += (_, error) => TestContext.Progress.WriteLine($"console page error: {error}");
        await page.GotoAsync(ConsoleUrl(at));
        await page.GetByLabel("API key or bearer token").FillAsync(await CreateKeyAsync(ServiceDefaults.Extensions.DefaultTenant, roles, name));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#who")).ToContainTextAsync(name);
        return page;
    }
}
