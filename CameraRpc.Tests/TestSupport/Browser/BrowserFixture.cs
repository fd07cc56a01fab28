namespace CameraRpc.Tests.TestSupport.Browser;

/// <summary>
/// A fixture whose tests share one server process and one Chromium; each test opens its own page
/// (in a browser context of its own, so no storage is shared between tests).
/// </summary>
[Category(ChromiumBrowser.Category)]
public abstract class BrowserFixture : SharedServerFixture
{
    private ChromiumBrowser? _browser;

    protected ChromiumBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium did not start");

    /// <summary>The console's address on the fixture's server.</summary>
    protected Uri Root => Server.HttpUri("/");

    [OneTimeSetUp]
    public async Task StartBrowserAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        _browser = await ChromiumBrowser.LaunchAsync(timeout.Token);
    }

    [OneTimeTearDown]
    public async Task StopBrowserAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
    }
}
