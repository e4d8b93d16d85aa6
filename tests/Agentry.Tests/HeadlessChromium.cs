using Microsoft.Playwright;

namespace Agentry.Tests;

/// Debian's chromium driven by Playwright. Playwright's own browser download cannot reach its host
/// here, so it launches the system executable, which scripts/browser.sh installs (AGENTRY_CHROMIUM
/// names another). Screenshots are written under the test run's work directory and attached to the
/// test's result, so they are kept as artifacts of the run.
public sealed class HeadlessChromium : IAsyncDisposable
{
    private static readonly string[] KnownExecutables = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    private readonly IPlaywright _playwright;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        var executable = Environment.GetEnvironmentVariable("AGENTRY_CHROMIUM") is { Length: > 0 } given
            ? given
            : KnownExecutables.FirstOrDefault(File.Exists);
        if (executable is null || !File.Exists(executable))
        {
            Assert.Fail($"No chromium at {executable ?? string.Join(", ", KnownExecutables)}: ./test.sh installs Debian's chromium (scripts/browser.sh), or set AGENTRY_CHROMIUM to a Chromium or Chrome executable.");
        }

        var playwright = await Playwright.CreateAsync();
        try
        {
            // Tests run as root in CI, where chromium refuses its own sandbox; with no internet, its
            // background connections (updates, sync, QUIC) only fail, many at a time.
            var browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = executable,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            });
            return new HeadlessChromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// A full-page screenshot, kept with the test's result.
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, "screenshots", $"{name}.png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        TestContext.AddTestAttachment(path, name);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
