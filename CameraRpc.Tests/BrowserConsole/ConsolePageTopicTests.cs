using System.Text.Json.Nodes;
using CameraRpc.Tests.TestSupport.Browser;

namespace CameraRpc.Tests.BrowserConsole;

/// <summary>
/// How the console shows topics and their events, whatever topics the server has: the page's
/// WebSocket is replaced by a scripted one (before the page's own script runs) that answers
/// <c>rpc.discover</c> with topics of every kind, and the test sends the events a server sends when
/// events are missed or a subscription ends.
/// </summary>
[NonParallelizable]
public sealed class ConsolePageTopicTests : BrowserFixture
{
    /// <summary>
    /// A WebSocket that answers from <c>window.scriptedAnswer</c> and lets the test deliver any message
    /// with <c>window.scriptedSocket.receive(value)</c>; what the page sent is in <c>window.scriptedSent</c>.
    /// </summary>
    private const string ScriptedSocket =
        """
        (() => {
          class ScriptedSocket extends EventTarget {
            static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
            constructor(url) {
              super();
              this.url = url;
              this.readyState = 0;
              window.scriptedSocket = this;
              window.scriptedSent = [];
              setTimeout(() => { this.readyState = 1; this.dispatchEvent(new Event('open')); }, 0);
            }
            send(text) {
              window.scriptedSent.push(JSON.parse(text));
              const answer = window.scriptedAnswer(JSON.parse(text));
              if (answer !== undefined) setTimeout(() => this.receive(answer), 0);
            }
            receive(value) { this.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(value) })); }
            close() { this.readyState = 3; this.dispatchEvent(new CloseEvent('close', { code: 1000 })); }
          }
          window.WebSocket = ScriptedSocket;
          const discover = {
            openrpc: '1.3.2',
            info: { title: 'CameraRpc', version: '9.8.7' },
            methods: [
              { name: 'camera.zoom', summary: 'Sets the zoom.', 'x-scope': 'camera.write',
                params: [{ name: 'level', required: false, schema: { type: 'number', default: 1.5 } }],
                result: { name: 'result', schema: { type: 'null' } } },
            ],
            'x-topics': [
              { name: 'camera.events', summary: 'Motion and tamper events.', 'x-scope': 'camera.read',
                'x-overflow': 'drop-oldest', 'x-capacity': 16,
                params: [
                  { name: 'camera', required: true, schema: { type: 'string' } },
                  { name: 'kinds', required: false, schema: { type: 'array', items: { type: 'string', enum: ['motion', 'tamper'] }, default: ['motion'] } },
                ],
                result: { name: 'event', schema: {} } },
            ],
          };
          window.scriptedAnswer = m => {
            if (m.method === 'rpc.discover') return { jsonrpc: '2.0', result: discover, id: m.id };
            if (m.method === 'rpc.subscribe') return { jsonrpc: '2.0', result: 'sub-' + (window.scriptedSent.filter(s => s.method === 'rpc.subscribe').length), id: m.id };
            if (m.method === 'rpc.unsubscribe') return { jsonrpc: '2.0', result: true, id: m.id };
            return { jsonrpc: '2.0', result: null, id: m.id };
          };
        })();
        """;

    private const string Card = "document.querySelector('.subscription[data-subscription=\"sub-1\"]')";

    [Test, CancelAfter(60_000)]
    public async Task a_topic_shows_its_parameters_defaults_scope_and_overflow_policy(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await OpenScriptedAsync(cancellationToken);
        string topic = ConsolePage.Topic("camera.events");
        await page.EvaluateAsync($"{topic}.open = true; {ConsolePage.Method("camera.zoom")}.open = true", cancellationToken);

        string text = (await page.TextAsync($"{topic}.innerText", cancellationToken))!;
        text.Should().Contain("Motion and tamper events.").And.Contain("scope camera.read").And.Contain("overflow drop-oldest · capacity 16");
        text.Should().MatchRegex(@"camera\s+string\s+yes", "a required parameter with its type");
        text.Should().MatchRegex(@"kinds\s+array of string \(""motion"", ""tamper""\)\s+no\s+\[""motion""\]", "an optional one with its default");
        (await page.TextAsync($"{ConsolePage.Method("camera.zoom")}.innerText", cancellationToken))
            .Should().Contain("scope camera.write").And.MatchRegex(@"level\s+number\s+no\s+1\.5", "a method's scope and defaults too");
        (await page.TextAsync("document.getElementById('version').textContent", cancellationToken)).Should().Be("server 9.8.7");
    }

    [Test, CancelAfter(60_000)]
    public async Task events_stream_in_with_gaps_marked_and_the_end_reason_shown(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await OpenScriptedAsync(cancellationToken);
        string topic = ConsolePage.Topic("camera.events");

        await page.EvaluateAsync(
            $"(() => {{ const item = {topic}; item.open = true; item.querySelector('[data-param=\"camera\"]').value = '\"front\"'; item.querySelector('form').requestSubmit(); }})()",
            cancellationToken);
        await page.WaitForAsync($"{Card} !== null", "the subscription", cancellationToken);
        JsonNode? subscribe = await page.EvaluateAsync("window.scriptedSent.find(m => m.method === 'rpc.subscribe').params", cancellationToken);
        subscribe!.ToJsonString().Should().Be("""{"topic":"camera.events","params":{"camera":"front"}}""", "the topic's params go by name, as typed");

        foreach (string notification in new[]
        {
            """{"jsonrpc":"2.0","method":"camera.events","params":{"subscription":"sub-1","seq":1,"result":{"kind":"motion"}}}""",
            """{"jsonrpc":"2.0","method":"camera.events","params":{"subscription":"sub-1","seq":2,"result":{"kind":"tamper"}}}""",
            """{"jsonrpc":"2.0","method":"camera.events","params":{"subscription":"sub-1","seq":5,"result":{"kind":"motion"}}}""",
            """{"jsonrpc":"2.0","method":"camera.events","params":{"subscription":"sub-1","seq":7,"end":"overflow"}}""",
        })
        {
            await page.EvaluateAsync($"window.scriptedSocket.receive({notification})", cancellationToken);
        }

        await page.WaitForAsync($"{Card}.dataset.state === 'ended'", "the end notification", cancellationToken);
        JsonNode? lines = await page.EvaluateAsync($"[...{Card}.querySelectorAll('.events li')].reverse().map(li => li.className + ': ' + li.textContent)", cancellationToken);
        string[] shown = lines!.AsArray().Select(l => l!.GetValue<string>()).ToArray();
        shown.Should().HaveCount(6);
        shown[0].Should().StartWith("event: seq 1 · ").And.EndWith("""{"kind":"motion"}""");
        shown[1].Should().StartWith("event: seq 2 · ");
        shown[2].Should().Be("gap: missed 2 events (seq 3–4)", "a gap in seq means events were missed");
        shown[3].Should().StartWith("event: seq 5 · ");
        shown[4].Should().Be("gap: missed 1 event (seq 6)", "the end's seq is one past the last event's, so a missed last event shows too");
        shown[5].Should().Be("end: seq 7 · ended by the server: overflow", "the end reason is shown");
        (await page.TextAsync($"{Card}.querySelector('.sub-state').textContent", cancellationToken)).Should().Be("ended: overflow");
        (await page.EvaluateAsync($"{Card}.dataset.events", cancellationToken))!.GetValue<string>().Should().Be("3");

        await page.EvaluateAsync("[...document.querySelectorAll('#history .history-entry')].find(e => e.textContent.includes('rpc.subscribe')).querySelector('button').click()", cancellationToken);
        string again = "document.querySelector('.subscription[data-subscription=\"sub-2\"]')";
        await page.WaitForAsync($"{again} !== null && {again}.dataset.state === 'live' && {again}.dataset.topic === 'camera.events'", "the re-run subscription's own view", cancellationToken);
        page.Errors.Should().BeEmpty();
    }

    [Test, CancelAfter(60_000)]
    public async Task a_method_can_be_sent_as_a_notification(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await OpenScriptedAsync(cancellationToken);
        string method = ConsolePage.Method("camera.zoom");

        await page.EvaluateAsync(
            $"(() => {{ const item = {method}; item.open = true; item.querySelector('[data-param=\"level\"]').value = '2'; item.querySelector('button[value=\"notify\"]').click(); }})()",
            cancellationToken);
        await page.WaitForAsync($"{method}.querySelector('.result .answer') !== null", "the notification to be sent", cancellationToken);

        (await page.EvaluateAsync("JSON.stringify(window.scriptedSent.find(m => m.method === 'camera.zoom'))", cancellationToken))!.GetValue<string>()
            .Should().Be("""{"jsonrpc":"2.0","method":"camera.zoom","params":{"level":2}}""", "a notification has no id");
        (await page.TextAsync($"{method}.querySelector('.result').textContent", cancellationToken)).Should().Contain("no answer", "the page says none will come");
        (await page.TextAsync("document.querySelector('#history .history-entry').textContent", cancellationToken)).Should().Contain("camera.zoom (notification)");
    }

    [Test, CancelAfter(60_000)]
    public async Task without_x_topics_the_page_says_the_server_lists_none(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await page.AddScriptOnNewDocumentAsync(ScriptedSocket + "window.scriptedAnswer = (answer => m => { const a = answer(m); if (a.result && a.result['x-topics']) delete a.result['x-topics']; return a; })(window.scriptedAnswer);", cancellationToken);
        await page.NavigateAsync(Root, cancellationToken);
        await page.WaitForAsync($"{ConsolePage.Method("camera.zoom")} !== null", "the methods", cancellationToken);

        (await page.TextAsync("document.getElementById('topics').textContent", cancellationToken)).Should().Contain("no topics");
        page.Errors.Should().BeEmpty("a server without topics is not an error");
    }

    private async Task<BrowserPage> OpenScriptedAsync(CancellationToken cancellationToken)
    {
        BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await page.AddScriptOnNewDocumentAsync(ScriptedSocket, cancellationToken);
        await page.NavigateAsync(Root, cancellationToken);
        await page.WaitForAsync($"{ConsolePage.State} === 'connected' && {ConsolePage.Topic("camera.events")} !== null", "the scripted catalogue", cancellationToken);
        return page;
    }
}
