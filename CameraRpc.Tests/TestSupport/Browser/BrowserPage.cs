using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CameraRpc.Tests.TestSupport.Browser;

/// <summary>
/// One Chromium tab: navigate, evaluate JavaScript, wait for a condition on the page, take a
/// screenshot; records every console error and uncaught exception, and every URL the page requested
/// (HTTP and WebSocket), so tests can assert there were none or none elsewhere.
/// </summary>
public sealed class BrowserPage : IAsyncDisposable
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(50);

    private readonly CdpConnection _connection;
    private readonly string _sessionId;
    private readonly string _contextId;
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentQueue<string> _requests = new();

    internal BrowserPage(CdpConnection connection, string sessionId, string contextId)
    {
        _connection = connection;
        _sessionId = sessionId;
        _contextId = contextId;
        _connection.EventReceived += OnEvent;
    }

    /// <summary>Console errors, failed loads, CSP violations and uncaught exceptions, in order.</summary>
    public IReadOnlyList<string> Errors => _errors.ToArray();

    /// <summary>Every URL requested, WebSocket URLs included.</summary>
    public IReadOnlyList<string> Requests => _requests.ToArray();

    internal async Task EnableAsync(CancellationToken cancellationToken)
    {
        await SendAsync("Runtime.enable", null, cancellationToken);
        await SendAsync("Log.enable", null, cancellationToken);
        await SendAsync("Network.enable", null, cancellationToken);
        await SendAsync("Page.enable", null, cancellationToken);
    }

    public Task<JsonObject> SendAsync(string method, JsonObject? parameters, CancellationToken cancellationToken) =>
        _connection.SendAsync(method, parameters, _sessionId, cancellationToken);

    /// <summary>Loads <paramref name="uri"/> and waits until the document and its scripts have run.</summary>
    public async Task NavigateAsync(Uri uri, CancellationToken cancellationToken)
    {
        JsonObject navigated = await SendAsync("Page.navigate", new JsonObject { ["url"] = uri.ToString() }, cancellationToken);
        if (navigated["errorText"] is JsonValue error)
        {
            throw new CdpException($"Navigating to {uri} failed: {error}");
        }

        await WaitForAsync($"location.href === {Js(uri.ToString())} && document.readyState === 'complete'", "the page to load", cancellationToken);
    }

    /// <summary>Runs <paramref name="source"/> in every document this page loads from now on, before the document's own scripts.</summary>
    public Task AddScriptOnNewDocumentAsync(string source, CancellationToken cancellationToken) =>
        SendAsync("Page.addScriptToEvaluateOnNewDocument", new JsonObject { ["source"] = source }, cancellationToken);

    /// <summary>Evaluates <paramref name="expression"/> (awaiting a promise) and returns its value as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression, CancellationToken cancellationToken)
    {
        JsonObject answer = await SendAsync(
            "Runtime.evaluate",
            new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true },
            cancellationToken);
        if (answer["exceptionDetails"] is JsonObject exception)
        {
            throw new CdpException($"`{expression}` threw: {exception["exception"]?["description"] ?? exception["text"]}");
        }

        return answer["result"]?["value"]?.DeepClone();
    }

    public async Task<string?> TextAsync(string expression, CancellationToken cancellationToken) =>
        (await EvaluateAsync(expression, cancellationToken))?.ToString();

    /// <summary>
    /// Polls <paramref name="condition"/> (a JavaScript expression) until it is truthy. There is no
    /// timeout of its own: the test's deadline (its CancellationToken) bounds the wait, and a wait that
    /// runs out says what it waited for and what the page showed.
    /// </summary>
    public async Task WaitForAsync(string condition, string description, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                JsonNode? value = await EvaluateAsync($"!!({condition})", cancellationToken);
                if (value?.GetValue<bool>() == true)
                {
                    return;
                }

                await Task.Delay(s_pollInterval, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new AssertionException($"Waited in vain for {description} ({condition}). {await DescribeAsync()}");
        }
    }

    /// <summary>A PNG of the viewport.</summary>
    public async Task<byte[]> ScreenshotAsync(CancellationToken cancellationToken)
    {
        JsonObject shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" }, cancellationToken);
        return Convert.FromBase64String(shot["data"]!.GetValue<string>());
    }

    /// <summary>Emulates a screen of <paramref name="width"/> by <paramref name="height"/> CSS pixels (a phone when <paramref name="mobile"/>).</summary>
    public Task SetViewportAsync(int width, int height, bool mobile, CancellationToken cancellationToken) =>
        SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject
        {
            ["width"] = width,
            ["height"] = height,
            ["deviceScaleFactor"] = 1,
            ["mobile"] = mobile,
        }, cancellationToken);

    /// <summary>Presses and releases a key (<c>Enter</c>, <c>Tab</c> or <c>Space</c>) as the keyboard would, on the focused element.</summary>
    public async Task PressKeyAsync(string key, CancellationToken cancellationToken)
    {
        (string code, int virtualKey, string? text) = key switch
        {
            "Enter" => ("Enter", 13, "\r"),
            "Tab" => ("Tab", 9, null),
            "Space" => ("Space", 32, " "),
            _ => throw new ArgumentOutOfRangeException(nameof(key), key, "not a key these tests press"),
        };
        string name = key == "Space" ? " " : key;
        var down = new JsonObject { ["type"] = text is null ? "rawKeyDown" : "keyDown", ["key"] = name, ["code"] = code, ["windowsVirtualKeyCode"] = virtualKey };
        if (text is not null)
        {
            down["text"] = text;
        }

        await SendAsync("Input.dispatchKeyEvent", down, cancellationToken);
        await SendAsync("Input.dispatchKeyEvent", new JsonObject { ["type"] = "keyUp", ["key"] = name, ["code"] = code, ["windowsVirtualKeyCode"] = virtualKey }, cancellationToken);
    }

    /// <summary>A JavaScript string literal of <paramref name="value"/>.</summary>
    public static string Js(string value) => JsonSerializer.Serialize(value);

    public async ValueTask DisposeAsync()
    {
        _connection.EventReceived -= OnEvent;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _connection.SendAsync("Target.disposeBrowserContext", new JsonObject { ["browserContextId"] = _contextId }, null, timeout.Token);
        }
        catch (Exception exception) when (exception is CdpException or OperationCanceledException)
        {
            // The browser is gone already; nothing to clean.
        }
    }

    private async Task<string> DescribeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        string body;
        try
        {
            body = await TextAsync("document.body ? document.body.innerText.slice(0, 1500) : '(no body)'", timeout.Token) ?? "";
        }
        catch (Exception exception) when (exception is CdpException or OperationCanceledException)
        {
            body = "(the page could not be read: " + exception.Message + ")";
        }

        return $"Console errors: [{string.Join(" | ", Errors)}]. Page text:\n{body}";
    }

    private static string LogEntryText(JsonNode entry) => "log: " + entry["text"] + " " + entry["url"];

    private void OnEvent(string? sessionId, string method, JsonObject parameters)
    {
        if (sessionId != _sessionId)
        {
            return;
        }

        string? type = method == "Runtime.consoleAPICalled" ? parameters["type"]?.ToString() : null;
        string? level = method == "Log.entryAdded" ? parameters["entry"]?["level"]?.ToString() : null;
        if (type is "error" or "assert")
        {
            IEnumerable<string?> args = (parameters["args"] as JsonArray ?? []).Select(a => a?["value"]?.ToString() ?? a?["description"]?.ToString());
            _errors.Enqueue("console." + type + ": " + string.Join(" ", args));
        }
        else if (method == "Runtime.exceptionThrown")
        {
            JsonNode? details = parameters["exceptionDetails"];
            _errors.Enqueue("uncaught: " + (details?["exception"]?["description"] ?? details?["text"]));
        }
        else if (level == "error")
        {
            _errors.Enqueue(LogEntryText(parameters["entry"]!));
        }
        else if (method == "Network.requestWillBeSent")
        {
            _requests.Enqueue(parameters["request"]?["url"]?.ToString() ?? "");
        }
        else if (method == "Network.webSocketCreated")
        {
            _requests.Enqueue(parameters["url"]?.ToString() ?? "");
        }
    }
}
