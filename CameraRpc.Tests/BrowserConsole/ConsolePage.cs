using CameraRpc.Tests.TestSupport.Browser;

namespace CameraRpc.Tests.BrowserConsole;

/// <summary>
/// What a person does on the console page, as the tests do it: open it, call a method, subscribe.
/// Element lookups follow the page's data attributes (<c>data-method</c>, <c>data-topic</c>,
/// <c>data-state</c>), which are part of the page's markup, not of its looks.
/// </summary>
internal static class ConsolePage
{
    public static string Method(string name) => $"document.querySelector('.item.method[data-method={BrowserPage.Js(name)}]')";

    public static string Topic(string name) => $"document.querySelector('.item.topic[data-topic={BrowserPage.Js(name)}]')";

    public static string LiveSubscription(string topic) => $"document.querySelector('.subscription[data-topic={BrowserPage.Js(topic)}][data-state=\"live\"]')";

    public const string State = "document.getElementById('state').dataset.state";

    /// <summary>Opens the console at <paramref name="root"/> and waits until it is connected and lists the methods.</summary>
    public static async Task OpenAsync(BrowserPage page, Uri root, CancellationToken cancellationToken)
    {
        await page.NavigateAsync(root, cancellationToken);
        await page.WaitForAsync($"{State} === 'connected'", "the console to connect", cancellationToken);
        await page.WaitForAsync($"{Method("ping")} !== null", "the methods from rpc.discover", cancellationToken);
    }

    /// <summary>Fills a method's form by name (JSON text per parameter) and submits it; waits for its answer.</summary>
    public static async Task<string> CallByNameAsync(BrowserPage page, string method, IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken)
    {
        string fills = string.Concat(values.Select(v =>
            $"item.querySelector('[data-param=' + {BrowserPage.Js(BrowserPage.Js(v.Key))} + ']').value = {BrowserPage.Js(v.Value)};"));
        return await SubmitAsync(page, method, $"item.querySelector('input[value=\"name\"]').click(); {fills}", cancellationToken);
    }

    /// <summary>Types <paramref name="rawParams"/> into a method's raw JSON box and submits it; waits for its answer.</summary>
    public static Task<string> CallRawAsync(BrowserPage page, string method, string rawParams, CancellationToken cancellationToken) =>
        SubmitAsync(page, method, $"item.querySelector('input[value=\"raw\"]').click(); item.querySelector('[data-raw-params]').value = {BrowserPage.Js(rawParams)};", cancellationToken);

    private static async Task<string> SubmitAsync(BrowserPage page, string method, string fill, CancellationToken cancellationToken)
    {
        await page.EvaluateAsync(
            $"(() => {{ const item = {Method(method)}; item.open = true; item.querySelector('.result').replaceChildren(); {fill} item.querySelector('form').requestSubmit(); }})()",
            cancellationToken);
        string answer = $"{Method(method)}.querySelector('.result .answer')";
        await page.WaitForAsync($"{answer} !== null", $"the answer of {method}", cancellationToken);
        return await page.TextAsync($"{answer}.innerText", cancellationToken) ?? "";
    }

    /// <summary>The JSON shown as the last answer's result (or error data) of <paramref name="method"/>.</summary>
    public static Task<string?> ShownJsonAsync(BrowserPage page, string method, CancellationToken cancellationToken) =>
        page.TextAsync($"{Method(method)}.querySelector('.result pre').textContent", cancellationToken);
}
