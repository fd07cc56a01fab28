using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CameraRpc.Tests.TestSupport.Browser;

/// <summary>
/// A real headless Chromium driven through the DevTools Protocol (no package, no WebDriver): started
/// with a fresh profile and the flags that keep it off the network, one browser context per page so
/// that pages share no storage.
/// </summary>
/// <remarks>
/// The executable is <c>$CAMERARPC_CHROMIUM</c> when set, otherwise Debian's <c>chromium</c> (which
/// <c>.ci/run</c> installs). Tests that use it are in the <c>Browser</c> category, so a developer
/// without Chromium runs <c>dotnet test --filter "TestCategory!=Browser"</c>.
/// </remarks>
public sealed partial class ChromiumBrowser : IAsyncDisposable
{
    public const string Category = "Browser";

    private static readonly string[] s_candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    private readonly Process _process;
    private readonly DirectoryInfo _profile;
    private readonly CdpConnection _connection;

    private ChromiumBrowser(Process process, DirectoryInfo profile, CdpConnection connection)
    {
        _process = process;
        _profile = profile;
        _connection = connection;
    }

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("CAMERARPC_CHROMIUM") is { Length: > 0 } path
            ? path
            : s_candidates.FirstOrDefault(File.Exists)
              ?? throw new InvalidOperationException(
                  "Chromium is not installed: `apt-get install chromium` (or set CAMERARPC_CHROMIUM), "
                  + "or skip the browser tests with --filter \"TestCategory!=Browser\"");

    /// <summary>Starts Chromium and connects to its DevTools endpoint.</summary>
    public static async Task<ChromiumBrowser> LaunchAsync(CancellationToken cancellationToken)
    {
        DirectoryInfo profile = Directory.CreateTempSubdirectory("camerarpc-chromium-");
        ProcessStartInfo info = ServerProcess.StartInfo(
        [
            ExecutablePath,
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            // Without these Chromium reaches out to Google's services, which this closed network refuses.
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-proxy-server", "--user-data-dir=" + profile.FullName,
            "--window-size=1200,900", "--remote-debugging-port=0", "about:blank",
        ], null);
        var process = new Process { StartInfo = info };
        var endpoint = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new List<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                endpoint.TrySetException(new InvalidOperationException("Chromium exited before it listened:\n" + string.Join("\n", output)));
                return;
            }

            lock (output)
            {
                output.Add(e.Data);
            }

            if (DevToolsLine().Match(e.Data) is { Success: true } match)
            {
                endpoint.TrySetResult(new Uri(match.Groups["url"].Value));
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            Uri browserEndpoint = await endpoint.Task.WaitAsync(cancellationToken);
            CdpConnection connection = await CdpConnection.ConnectAsync(browserEndpoint, cancellationToken);
            return new ChromiumBrowser(process, profile, connection);
        }
        catch
        {
            Stop(process);
            profile.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>A new tab in a browser context of its own (its own storage and cookies), with its events recorded.</summary>
    public async Task<BrowserPage> NewPageAsync(CancellationToken cancellationToken)
    {
        JsonObject context = await _connection.SendAsync("Target.createBrowserContext", null, null, cancellationToken);
        string contextId = context["browserContextId"]!.GetValue<string>();
        JsonObject target = await _connection.SendAsync(
            "Target.createTarget", new JsonObject { ["url"] = "about:blank", ["browserContextId"] = contextId }, null, cancellationToken);
        JsonObject attached = await _connection.SendAsync(
            "Target.attachToTarget", new JsonObject { ["targetId"] = target["targetId"]!.GetValue<string>(), ["flatten"] = true }, null, cancellationToken);
        var page = new BrowserPage(_connection, attached["sessionId"]!.GetValue<string>(), contextId);
        await page.EnableAsync(cancellationToken);
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        Stop(_process);
        _process.Dispose();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A crash dump or lock file still being written; the temporary folder is cleaned later.
        }
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    [GeneratedRegex(@"DevTools listening on (?<url>ws://\S+)")]
    private static partial Regex DevToolsLine();
}
