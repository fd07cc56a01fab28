using System.Text.Json.Nodes;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;
using CameraRpc.Tests.TestSupport.Browser;

namespace CameraRpc.Tests.BrowserConsole;

/// <summary>The browser console at <c>GET /</c> (CONTRACT section 9), in a real headless Chromium against the executable.</summary>
[NonParallelizable]
public sealed class ConsolePageTests : BrowserFixture
{
    [Test, CancelAfter(60_000)]
    public async Task the_page_loads_without_a_console_error_and_talks_only_to_its_own_origin(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await ConsolePage.OpenAsync(page, Root, cancellationToken);
        await ConsolePage.CallByNameAsync(page, "ping", new Dictionary<string, string>(), cancellationToken);

        page.Errors.Should().BeEmpty("the page, its CSP and its connection produce no console error");
        string http = $"http://127.0.0.1:{Server.Port}/";
        string ws = $"ws://127.0.0.1:{Server.Port}/";
        page.Requests.Should().NotBeEmpty()
            .And.OnlyContain(url => url.StartsWith(http, StringComparison.Ordinal) || url.StartsWith(ws, StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal),
                "the console loads nothing from anywhere else (no CDN, no font, no script)");
        page.Requests.Should().Contain(ws + "ws", "it connects to the server's own WebSocket endpoint");
        (await page.TextAsync("document.getElementById('version').textContent", cancellationToken))
            .Should().Be("server 1.0.0", "the server's version comes from rpc.discover's info.version");
    }

    [Test, CancelAfter(60_000)]
    public async Task every_method_and_topic_of_rpc_discover_is_listed_with_its_parameters(CancellationToken cancellationToken)
    {
        HttpAnswer discovered = await HttpExchange.PostAsync(Server.HttpUri(), HttpExchange.Call("rpc.discover", 1), cancellationToken);
        JsonNode document = JsonNode.Parse(discovered.Body)!["result"]!;
        string[] methods = document["methods"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()).ToArray();
        string[] topics = (document["x-topics"] as JsonArray ?? []).Select(t => t!["name"]!.GetValue<string>()).ToArray();
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);

        await ConsolePage.OpenAsync(page, Root, cancellationToken);

        JsonNode? listedMethods = await page.EvaluateAsync("[...document.querySelectorAll('.item.method')].map(e => e.dataset.method)", cancellationToken);
        JsonNode? listedTopics = await page.EvaluateAsync("[...document.querySelectorAll('.item.topic')].map(e => e.dataset.topic)", cancellationToken);
        listedMethods!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal(methods, "every method rpc.discover names is listed, in its order");
        listedTopics!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal(topics, "every topic of x-topics is listed (none when the server has none)");
        await page.EvaluateAsync($"{ConsolePage.Method("echo")}.open = true", cancellationToken);
        string? echoParams = await page.TextAsync($"{ConsolePage.Method("echo")}.querySelector('table.params tbody').innerText", cancellationToken);
        echoParams.Should().MatchRegex(@"message\s+any\s+yes", "a parameter shows its name, type and whether it is required");
        (await page.TextAsync($"{ConsolePage.Method("ping")}.querySelector('summary').innerText", cancellationToken))
            .Should().Contain("Health check", "each method shows its summary");
    }

    [Test, CancelAfter(60_000)]
    public async Task ping_answers_pong_with_its_round_trip_time_and_goes_into_the_history(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await ConsolePage.OpenAsync(page, Root, cancellationToken);

        string answer = await ConsolePage.CallByNameAsync(page, "ping", new Dictionary<string, string>(), cancellationToken);

        (await ConsolePage.ShownJsonAsync(page, "ping", cancellationToken)).Should().Be("\"pong\"", "ping answers pong");
        answer.Should().MatchRegex(@"\d ms", "the round-trip time is shown");
        (await page.TextAsync("document.querySelector('#history .history-entry').innerText", cancellationToken))
            .Should().Contain("ping").And.Contain("ok", "the call is in the history");

        await page.EvaluateAsync("document.querySelector('#history .history-entry button').click()", cancellationToken);
        await page.WaitForAsync("document.querySelectorAll('#history .history-entry[data-outcome=\"ok\"]').length === 2", "the re-run call in the history", cancellationToken);
    }

    [Test, CancelAfter(60_000)]
    public async Task echo_by_name_round_trips_a_json_object(CancellationToken cancellationToken)
    {
        const string Message = """{"camera":"front door","zoom":2.5,"presets":[1,2,3],"night":null,"tags":{"é":"ü"}}""";
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await ConsolePage.OpenAsync(page, Root, cancellationToken);

        await ConsolePage.CallByNameAsync(page, "echo", new Dictionary<string, string> { ["message"] = Message }, cancellationToken);

        string? shown = await ConsolePage.ShownJsonAsync(page, "echo", cancellationToken);
        JsonNode.DeepEquals(JsonNode.Parse(shown!), JsonNode.Parse(Message)).Should().BeTrue("echo answers the object it was given by name, unchanged ({0})", shown);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_bad_param_shows_the_invalid_params_error_with_its_data(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await ConsolePage.OpenAsync(page, Root, cancellationToken);

        string answer = await ConsolePage.CallRawAsync(page, "echo", """{"messgae": 1}""", cancellationToken);

        answer.Should().Contain("error -32602").And.Contain("Invalid params", "the error's code and message are shown");
        JsonNode data = JsonNode.Parse((await ConsolePage.ShownJsonAsync(page, "echo", cancellationToken))!)!;
        data["param"]!.GetValue<string>().Should().Be("messgae", "the error's data names the parameter");
        data["reason"]!.GetValue<string>().Should().Be("unexpected", "and says what is wrong with it");
    }

    [Test, CancelAfter(60_000)]
    public async Task json_that_does_not_parse_is_refused_before_anything_is_sent(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await ConsolePage.OpenAsync(page, Root, cancellationToken);

        await page.EvaluateAsync(
            $"(() => {{ const item = {ConsolePage.Method("echo")}; item.open = true; item.querySelector('[data-param=\"message\"]').value = '{{camera: front}}'; item.querySelector('form').requestSubmit(); }})()",
            cancellationToken);

        string input = $"{ConsolePage.Method("echo")}.querySelector('[data-param=\"message\"]')";
        (await page.TextAsync($"{input}.getAttribute('aria-invalid')", cancellationToken)).Should().Be("true", "the field is marked invalid");
        (await page.TextAsync($"document.getElementById({input}.getAttribute('aria-describedby')).textContent", cancellationToken))
            .Should().StartWith("Not valid JSON", "the field says why, next to it");
        (await page.EvaluateAsync("document.querySelectorAll('#history .history-entry').length", cancellationToken))!.GetValue<int>()
            .Should().Be(0, "nothing was sent");
    }

    [Test, CancelAfter(60_000)]
    public async Task the_batch_box_sends_a_batch_and_shows_every_answer(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await ConsolePage.OpenAsync(page, Root, cancellationToken);

        await page.EvaluateAsync(
            """
            (() => {
              document.getElementById('batch-input').value = '[{"jsonrpc":"2.0","method":"ping","id":1},{"jsonrpc":"2.0","method":"nope","id":2},{"jsonrpc":"2.0","method":"ping"}]';
              document.getElementById('batch-form').requestSubmit();
            })()
            """, cancellationToken);
        await page.WaitForAsync("document.querySelector('#batch-result pre') !== null", "the batch's answer", cancellationToken);

        JsonArray answers = JsonNode.Parse((await page.TextAsync("document.querySelector('#batch-result pre').textContent", cancellationToken))!)!.AsArray();
        answers.Should().HaveCount(2, "the notification in the batch gets no answer");
        answers.Select(a => a!.ToJsonString()).Should().Contain(
            ["""{"jsonrpc":"2.0","result":"pong","id":1}""", """{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found: nope"},"id":2}"""],
            "each call of the batch is answered");
    }

    [Test, CancelAfter(60_000)]
    public async Task it_works_by_keyboard_alone(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await ConsolePage.OpenAsync(page, Root, cancellationToken);
        string ping = ConsolePage.Method("ping");

        await page.EvaluateAsync($"{ping}.querySelector('summary').focus()", cancellationToken);
        await page.PressKeyAsync("Enter", cancellationToken);
        await page.WaitForAsync($"{ping}.open", "Enter on a method to open it", cancellationToken);
        for (int presses = 0; presses < 6 && await page.TextAsync("document.activeElement.textContent", cancellationToken) != "Call"; presses++)
        {
            await page.PressKeyAsync("Tab", cancellationToken);
        }

        (await page.TextAsync("document.activeElement.textContent", cancellationToken)).Should().Be("Call", "Tab reaches the method's Call button");
        await page.PressKeyAsync("Enter", cancellationToken);
        await page.WaitForAsync($"{ping}.querySelector('.result pre') !== null", "the answer of a call made with the keyboard", cancellationToken);
        (await ConsolePage.ShownJsonAsync(page, "ping", cancellationToken)).Should().Be("\"pong\"");
    }

    [Test, CancelAfter(60_000)]
    public async Task on_a_phone_sized_screen_nothing_overflows_and_every_control_is_labelled(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await page.SetViewportAsync(375, 740, mobile: true, cancellationToken);
        await ConsolePage.OpenAsync(page, Root, cancellationToken);
        await ConsolePage.CallRawAsync(page, "echo", """{"message": {"a very long property name that would not fit on a phone": "and a value as long as the name, or longer"}}""", cancellationToken);
        await page.EvaluateAsync("document.querySelectorAll('details').forEach(d => d.open = true)", cancellationToken);

        (await page.EvaluateAsync("document.documentElement.scrollWidth <= window.innerWidth", cancellationToken))!.GetValue<bool>()
            .Should().BeTrue("the page reads on a 375 px screen without scrolling sideways");
        JsonNode? unlabelled = await page.EvaluateAsync(
            """
            [...document.querySelectorAll('input, textarea, select, button')]
              .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !(c.tagName === 'BUTTON' && c.textContent.trim()))
              .map(c => c.outerHTML.slice(0, 120))
            """, cancellationToken);
        unlabelled!.AsArray().Should().BeEmpty("every control has a label a screen reader can announce");
    }

    [Test, CancelAfter(60_000)]
    public async Task a_server_stats_subscription_streams_events_draws_the_chart_and_stops_on_unsubscribe(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await ConsolePage.OpenAsync(page, Root, cancellationToken);
        string subscribe = $"(() => {{ const item = {ConsolePage.Topic("server.stats")}; item.open = true; item.querySelector('form').requestSubmit(); }})()";
        string live = ConsolePage.LiveSubscription("server.stats");

        await page.EvaluateAsync(subscribe, cancellationToken);
        await page.WaitForAsync($"{live} !== null && Number({live}.dataset.events) >= 2", "two server.stats events", cancellationToken);

        string first = (await page.TextAsync($"{live}.dataset.subscription", cancellationToken))!;
        string card = $"document.querySelector('.subscription[data-subscription=' + {BrowserPage.Js(BrowserPage.Js(first))} + ']')";
        (await page.EvaluateAsync($"Number({card}.querySelector('canvas').dataset.samples)", cancellationToken))!.GetValue<int>()
            .Should().BeGreaterThanOrEqualTo(2, "each event is a sample of the chart");
        (await page.EvaluateAsync(ChartColours(card), cancellationToken))!.GetValue<bool>()
            .Should().BeTrue("the chart draws both lines: calls per second and connections");

        await page.EvaluateAsync($"{card}.querySelector('header button').click()", cancellationToken);
        await page.WaitForAsync($"{card}.dataset.state === 'ended' && {card}.dataset.end === 'unsubscribed'", "the unsubscribe answer", cancellationToken);
        int eventsAtUnsubscribe = (await page.EvaluateAsync($"Number({card}.dataset.events)", cancellationToken))!.GetValue<int>();

        // server.stats ticks once a second for every subscriber: once a new subscription has seen a
        // tick after its first event, the old one would have seen that tick too, had it still been live.
        await page.EvaluateAsync(subscribe, cancellationToken);
        await page.WaitForAsync($"{live} !== null && Number({live}.dataset.events) >= 2", "two events of a second subscription", cancellationToken);
        (await page.EvaluateAsync($"Number({card}.dataset.events)", cancellationToken))!.GetValue<int>()
            .Should().Be(eventsAtUnsubscribe, "no event follows the unsubscribe answer");
        page.Errors.Should().BeEmpty();
    }

    [Test, CancelAfter(90_000)]
    public async Task a_screenshot_of_the_console_for_the_operators_guide(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await page.SetViewportAsync(1100, 760, mobile: false, cancellationToken);
        await ConsolePage.OpenAsync(page, Root, cancellationToken);
        await ConsolePage.CallByNameAsync(page, "echo", new Dictionary<string, string> { ["message"] = """{"camera":"front","zoom":2}""" }, cancellationToken);
        await ConsolePage.CallRawAsync(page, "echo", """{"messgae": 1}""", cancellationToken);
        await ConsolePage.CallByNameAsync(page, "ping", new Dictionary<string, string>(), cancellationToken);
        await page.EvaluateAsync($"{ConsolePage.Method("ping")}.open = false", cancellationToken);
        if (await page.EvaluateAsync($"{ConsolePage.Topic("server.stats")} !== null", cancellationToken) is JsonValue hasStats && hasStats.GetValue<bool>())
        {
            await page.EvaluateAsync($"{ConsolePage.Topic("server.stats")}.querySelector('form').requestSubmit()", cancellationToken);
            string live = ConsolePage.LiveSubscription("server.stats");
            await page.WaitForAsync($"{live} !== null && Number({live}.dataset.events) >= 3", "three server.stats events", cancellationToken);
        }

        await page.EvaluateAsync("window.scrollTo(0, 0)", cancellationToken);
        byte[] png = await page.ScreenshotAsync(cancellationToken);

        png.AsSpan(0, 8).ToArray().Should().Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "it is a PNG");
        png.Length.Should().BeLessThan(200 * 1024, "the guide's screenshot stays small");
        string saved = Path.Combine(TestContext.CurrentContext.WorkDirectory, "console.png");
        await File.WriteAllBytesAsync(saved, png, cancellationToken);
        TestContext.AddTestAttachment(saved, "the console as the operator's guide shows it");
        if (Environment.GetEnvironmentVariable("CAMERARPC_UPDATE_SCREENSHOT") == "1")
        {
            // Only on request: an ordinary run leaves the repository as it found it.
            string docs = Directory.CreateDirectory(Path.Combine(RepositoryRoot(), "CameraRpc.Server", "docs")).FullName;
            await File.WriteAllBytesAsync(Path.Combine(docs, "console.png"), png, cancellationToken);
        }
    }

    /// <summary>True when the chart's canvas holds pixels of both series' colours.</summary>
    private static string ChartColours(string card) =>
        $$"""
        (() => {
          const canvas = {{card}}.querySelector('canvas');
          const style = getComputedStyle(canvas);
          const rgb = name => { const probe = document.createElement('canvas').getContext('2d'); probe.fillStyle = style.getPropertyValue(name).trim(); probe.fillRect(0, 0, 1, 1); return [...probe.getImageData(0, 0, 1, 1).data.slice(0, 3)]; };
          const wanted = [rgb('--chart-calls'), rgb('--chart-connections')];
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          const found = wanted.map(() => false);
          for (let i = 0; i < pixels.length; i += 4) {
            wanted.forEach((c, k) => { if (Math.abs(pixels[i] - c[0]) + Math.abs(pixels[i + 1] - c[1]) + Math.abs(pixels[i + 2] - c[2]) < 12) found[k] = true; });
          }
          return found.every(f => f);
        })()
        """;

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "CameraRpc.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("CameraRpc.sln not found above " + AppContext.BaseDirectory);
    }
}
