using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using CameraRpc.Tests.Hardening.Methods;
using CameraRpc.Tests.Hardening.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Hardening;

/// <summary>
/// Security review as tests: the auth token (never logged, query form only on the upgrade), no
/// exception text in any answer, no log injection, and the Origin rule's default.
/// </summary>
[NonParallelizable]
public sealed partial class SecurityTests
{
    private const string Token = "s3cr3t-T0KEN-4f9a1c";

    private static async Task<string> ReadLogWhenAsync(string path, string marker, CancellationToken cancellationToken) =>
        await ServerProbe.PollUntilAsync(
            async ct => File.Exists(path) ? await File.ReadAllTextAsync(path, ct) : string.Empty,
            text => text.Contains(marker, StringComparison.Ordinal),
            cancellationToken,
            within: TimeSpan.FromSeconds(10));

    [Test, CancelAfter(30_000)]
    public async Task the_auth_token_is_required_accepted_in_the_query_only_on_the_upgrade_and_never_logged(CancellationToken cancellationToken)
    {
        string log = Path.Combine(Directory.CreateTempSubdirectory("camerarpc-sec-").FullName, "server.log");
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--auth-token", Token, "--log-file", log, "--log-level", "debug");

        await using (RpcTestClient header = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken, o => o.SetRequestHeader("Authorization", "Bearer " + Token)))
        {
            (await header.CallAsync("""{"jsonrpc":"2.0","method":"echo","params":["header call"],"id":1}""", cancellationToken)).Should().Contain("header call");
        }

        await using (RpcTestClient query = await RpcTestClient.ConnectAsync(new Uri(server.WebSocketUri + "?access_token=" + Token), cancellationToken))
        {
            (await query.CallAsync("""{"jsonrpc":"2.0","method":"echo","params":["query call"],"id":2}""", cancellationToken)).Should().Contain("query call");
        }

        await using (RawWebSocket missing = await RawWebSocket.ConnectAsync(server.Port, cancellationToken))
        {
            missing.HandshakeStatus.Should().Be(401, "an upgrade without the token is refused");
        }

        await using (RawWebSocket wrong = await RawWebSocket.ConnectAsync(server.Port, cancellationToken, extraHeaders: ["Authorization: Bearer " + Token + "x"]))
        {
            wrong.HandshakeStatus.Should().Be(401, "a wrong token (even a longer one with the right prefix) is refused");
        }

        await using (RawWebSocket prefix = await RawWebSocket.ConnectAsync(server.Port, cancellationToken, path: "/ws?access_token=" + Token[..^1]))
        {
            prefix.HandshakeStatus.Should().Be(401, "a prefix of the token is refused");
        }

        using var http = new HttpClient();
        var body = new StringContent("""{"jsonrpc":"2.0","method":"ping","id":3}""", Encoding.UTF8, "application/json");
        using (HttpResponseMessage viaQuery = await http.PostAsync(server.HttpUri("/ws?access_token=" + Token), body, cancellationToken))
        {
            viaQuery.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "?access_token= is accepted only on the WebSocket upgrade, not on a POST");
        }

        using (var request = new HttpRequestMessage(HttpMethod.Post, server.HttpUri()) { Content = new StringContent("""{"jsonrpc":"2.0","method":"echo","params":["post call"],"id":4}""", Encoding.UTF8, "application/json") })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            using HttpResponseMessage viaHeader = await http.SendAsync(request, cancellationToken);
            viaHeader.StatusCode.Should().Be(HttpStatusCode.OK, "a POST with the header is served");
        }

        await using (RpcTestClient last = await RpcTestClient.ConnectAsync(new Uri(server.WebSocketUri + "?access_token=" + Token), cancellationToken))
        {
            (await last.CallAsync("""{"jsonrpc":"2.0","method":"echo","params":["last call"],"id":5}""", cancellationToken)).Should().Contain("last call");
        }

        string text = await ReadLogWhenAsync(log, "last call", cancellationToken);
        text.Should().Contain("last call", "the log is written (polled for 10 s)");
        text.Should().Contain("query call", "the log has the calls (so the check below looks at a real log)");
        text.Should().NotContain(Token, "the token is never logged, whether it came in the header or the query");
        text.Should().NotContain(Token[..8], "not even part of it");
        server.Lines.Should().NotContain(l => l.Contains(Token, StringComparison.Ordinal), "nor written to the console");
    }

    [Test, CancelAfter(30_000)]
    public async Task no_exception_text_or_stack_reaches_a_client(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        using var http = new HttpClient();
        var answers = new List<string>();
        foreach (string how in new[] { "null", "invalid" })
        {
            string call = $$"""{"jsonrpc":"2.0","method":"hardening.crash","params":["{{how}}"],"id":1}""";
            answers.Add(await client.CallAsync(call, cancellationToken));
            using HttpResponseMessage post = await http.PostAsync(server.HttpUri(), new StringContent(call, Encoding.UTF8, "application/json"), cancellationToken);
            answers.Add(await post.Content.ReadAsStringAsync(cancellationToken));
            answers.Add(await client.CallAsync("[" + call + "," + call.Replace("\"id\":1", "\"id\":2", StringComparison.Ordinal) + "]", cancellationToken));
        }

        foreach (string answer in answers)
        {
            answer.Should().Contain("\"code\":-32603", "a handler that throws is an Internal error");
            answer.Should().NotContainAny([HardeningCrashMethods.Secret, "Exception", " at ", ".cs:line", "NullReference", "InvalidOperation"], "nothing of the exception reaches the client");
        }

        // Refusals and malformed requests at the HTTP level say what is wrong without exception text.
        var refusals = new List<string>();
        foreach (string raw in new[]
        {
            $"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
            RawWebSocket.UpgradeRequest(server.Port, version: "7"),
            RawWebSocket.UpgradeRequest(server.Port, key: "x"),
        })
        {
            await using RawWebSocket tcp = await RawWebSocket.ConnectTcpAsync(server.Port, cancellationToken);
            await tcp.HandshakeRawAsync(raw, cancellationToken);
            byte[] rest = new byte[4096];
            int read = tcp.HandshakeStatus == 101 ? 0 : await tcp.Socket.ReceiveAsync(rest, System.Net.Sockets.SocketFlags.None, cancellationToken);
            refusals.Add(tcp.HandshakeResponse.Split("\r\n")[0] + " | " + Encoding.UTF8.GetString(rest, 0, read));
        }

        TestContext.Out.WriteLine(string.Join("\n", refusals));
        refusals.Should().AllSatisfy(r => r.Should().NotContainAny(["Exception", " at System.", "WebSocket request", "Sec-WebSocket-"], "a refusal carries no exception message"));
    }

    [Test, CancelAfter(30_000)]
    public async Task line_breaks_and_ansi_escapes_from_clients_cannot_forge_or_colour_log_lines(CancellationToken cancellationToken)
    {
        string log = Path.Combine(Directory.CreateTempSubdirectory("camerarpc-sec-").FullName, "server.log");
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--log-file", log, "--log-level", "debug");
        await using RawWebSocket socket = await RawWebSocket.ConnectAsync(server.Port, cancellationToken, extraHeaders: ["Origin: http://evil.example\u001b[31m"]);
        await using (RawWebSocket forgedOrigin = await RawWebSocket.ConnectAsync(server.Port, cancellationToken, extraHeaders: ["Origin: http://evil.example\u001b[2J\u001b[31m FORGED"]))
        {
            forgedOrigin.HandshakeStatus.Should().BeOneOf([400, 403], "a foreign origin with control characters is refused");
        }

        await using RawWebSocket client = await RawWebSocket.ConnectAsync(server.Port, cancellationToken);
        string[] evil =
        [
            // Raw CR/LF are JSON whitespace, so this is a valid call whose body spans "lines".
            "{\"jsonrpc\":\"2.0\",\r\n\"method\":\"echo\",\n2026-01-01 00:00:00,000 - CameraRpc.Server - ERROR - FORGED\n\"params\":[1],\"id\":1}",
            "{\"jsonrpc\":\"2.0\",\r\n\"method\":\"echo\",\r\n\"params\":[\"x\"],\r\n\"id\":2}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"no\\nsuch\\r\\n2026-01-01 00:00:00,000 - CameraRpc.Server - ERROR - FORGED\\u001b[31m\",\"id\":3}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"\\u001b[2J\\u001b[31mred\\u0085\\u2028\"],\"id\":4}",
            "\u001b[2J\u001b[31m FORGED not json \r\n",
        ];
        foreach (string message in evil)
        {
            await client.SendTextAsync(message, cancellationToken);
            (await client.ReadMessageAsync(cancellationToken)).Should().NotBeNull("every message is answered");
        }

        await client.SendTextAsync("""{"jsonrpc":"2.0","method":"ping","id":"last"}""", cancellationToken);
        (await client.ReadMessageAsync(cancellationToken)).Should().NotBeNull();
        string text = await ReadLogWhenAsync(log, "\"id\":\"last\"}", cancellationToken);
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().AllSatisfy(line => LogLine().IsMatch(line).Should().BeTrue($"every line of the file is a real log line, none forged: {line}"));
        lines.Where(l => l.Contains("FORGED", StringComparison.Ordinal)).Should().AllSatisfy(l => l.Should().NotMatchRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - CameraRpc\.Server - ERROR - FORGED", "client text stays inside its own line"));
        text.Should().NotContain("\u001b", "no escape character reaches the log (a terminal would obey it)");
        text.Should().NotContain("\r", "no carriage return reaches the log");
        text.Should().NotContain("\u0085").And.NotContain("\u2028", "no Unicode line break reaches the log");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_foreign_origin_is_refused_by_default_and_same_origin_or_no_origin_is_allowed(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using (RawWebSocket foreign = await RawWebSocket.ConnectAsync(server.Port, cancellationToken, extraHeaders: ["Origin: https://evil.example"]))
        {
            foreign.HandshakeStatus.Should().Be(403, "cross-site WebSocket hijacking is blocked by default");
        }

        await using (RawWebSocket lookalike = await RawWebSocket.ConnectAsync(server.Port, cancellationToken, extraHeaders: [$"Origin: http://127.0.0.1:{server.Port}.evil.example"]))
        {
            lookalike.HandshakeStatus.Should().Be(403, "an origin that merely starts with the host is foreign");
        }

        await using (RawWebSocket nullOrigin = await RawWebSocket.ConnectAsync(server.Port, cancellationToken, extraHeaders: ["Origin: null"]))
        {
            nullOrigin.HandshakeStatus.Should().Be(403, "the opaque origin 'null' (sandboxed iframes, file://) is foreign");
        }

        await using (RawWebSocket same = await RawWebSocket.ConnectAsync(server.Port, cancellationToken, extraHeaders: [$"Origin: http://127.0.0.1:{server.Port}"]))
        {
            same.HandshakeStatus.Should().Be(101, "a page served by this host may connect");
        }

        await using (RawWebSocket none = await RawWebSocket.ConnectAsync(server.Port, cancellationToken))
        {
            none.HandshakeStatus.Should().Be(101, "non-browser clients send no Origin and are allowed");
        }

        await using InProcessServer listed = InProcessServer.Start(o => o with { AllowedOrigins = ["https://app.example"], ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await using (RawWebSocket allowed = await RawWebSocket.ConnectAsync(listed.Port, cancellationToken, extraHeaders: ["Origin: https://app.example"]))
        {
            allowed.HandshakeStatus.Should().Be(101, "a listed origin is allowed");
        }

        await using (RawWebSocket other = await RawWebSocket.ConnectAsync(listed.Port, cancellationToken, extraHeaders: ["Origin: https://app.example.evil"]))
        {
            other.HandshakeStatus.Should().Be(403, "only the listed origin, not one that starts like it");
        }
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - CameraRpc\.Server - (DEBUG|INFO|WARNING|ERROR) - ")]
    private static partial Regex LogLine();
}
