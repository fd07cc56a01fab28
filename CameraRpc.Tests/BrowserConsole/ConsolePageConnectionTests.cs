using CameraRpc.Tests.TestSupport;
using CameraRpc.Tests.TestSupport.Browser;

namespace CameraRpc.Tests.BrowserConsole;

/// <summary>The console's connection: the token it asks for (<c>--auth-token</c>), and reconnecting when the server comes back.</summary>
[NonParallelizable]
public sealed class ConsolePageConnectionTests : BrowserFixture
{
    private const string Token = "camera-s3cret";

    protected override string[] ServerArguments => ["--auth-token", Token];

    [Test, CancelAfter(60_000)]
    public async Task the_page_asks_for_the_token_refuses_a_wrong_one_clearly_and_works_with_the_right_one(CancellationToken cancellationToken)
    {
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        await page.NavigateAsync(Root, cancellationToken);

        await page.WaitForAsync($"{ConsolePage.State} === 'token-needed'", "the console to ask for a token", cancellationToken);
        (await page.EvaluateAsync("document.getElementById('token-form').hidden", cancellationToken))!.GetValue<bool>().Should().BeFalse("the token form is shown");
        (await page.TextAsync("document.activeElement.id", cancellationToken)).Should().Be("token-input", "the token field has the focus, ready to type");

        await SubmitTokenAsync(page, "wrong-token", cancellationToken);
        await page.WaitForAsync($"{ConsolePage.State} === 'token-refused'", "the wrong token to be refused", cancellationToken);
        (await page.TextAsync("document.getElementById('token-message').textContent", cancellationToken))
            .Should().Contain("refused", "the page says the token was wrong, not just that it failed");
        (await page.TextAsync("document.getElementById('state').textContent", cancellationToken)).Should().Be("Token refused");

        await SubmitTokenAsync(page, Token, cancellationToken);
        await page.WaitForAsync($"{ConsolePage.State} === 'connected'", "the right token to connect", cancellationToken);
        await page.WaitForAsync($"{ConsolePage.Method("ping")} !== null", "the methods", cancellationToken);
        await ConsolePage.CallByNameAsync(page, "ping", new Dictionary<string, string>(), cancellationToken);
        (await ConsolePage.ShownJsonAsync(page, "ping", cancellationToken)).Should().Be("\"pong\"", "calls work with the right token");
        page.Requests.Should().Contain($"ws://127.0.0.1:{Server.Port}/ws?access_token={Token}", "a browser WebSocket sends the token in the query");
        (await page.EvaluateAsync("document.getElementById('token-form').hidden", cancellationToken))!.GetValue<bool>().Should().BeTrue();

        await page.NavigateAsync(Root, cancellationToken);
        await page.WaitForAsync($"{ConsolePage.State} === 'connected'", "a reload to reconnect with the kept token", cancellationToken);
    }

    [Test, CancelAfter(90_000)]
    public async Task the_page_reconnects_when_the_server_comes_back(CancellationToken cancellationToken)
    {
        ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        int port = server.Port;
        await using BrowserPage page = await Browser.NewPageAsync(cancellationToken);
        try
        {
            await ConsolePage.OpenAsync(page, server.HttpUri("/"), cancellationToken);

            server.Signal(ServerProcess.SIGTERM);
            await server.WaitForExitAsync(cancellationToken);
            await page.WaitForAsync($"{ConsolePage.State} === 'disconnected'", "the console to see the server go", cancellationToken);
            (await page.TextAsync("document.getElementById('state').textContent", cancellationToken)).Should().Contain("Retrying", "it says it will try again");
        }
        finally
        {
            await server.DisposeAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(cancellationToken, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.WaitForAsync($"{ConsolePage.State} === 'connected'", "the console to reconnect on its own", cancellationToken);
        await ConsolePage.CallByNameAsync(page, "ping", new Dictionary<string, string>(), cancellationToken);
        (await ConsolePage.ShownJsonAsync(page, "ping", cancellationToken)).Should().Be("\"pong\"", "calls work again after the reconnect");
    }

    private static Task SubmitTokenAsync(BrowserPage page, string token, CancellationToken cancellationToken) =>
        page.EvaluateAsync(
            $"(() => {{ document.getElementById('token-input').value = {BrowserPage.Js(token)}; document.getElementById('token-form').requestSubmit(); }})()",
            cancellationToken);
}
