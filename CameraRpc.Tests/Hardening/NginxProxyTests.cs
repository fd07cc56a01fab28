using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Hardening;

/// <summary>
/// The shipped reverse-proxy config (CameraRpc.Server/deploy/nginx/camerarpc.conf) in front of the real
/// executable. The test config is generated from the shipped file, changing only what a test cannot
/// have: TLS (plain listen on a free port), the upstream port, and the paths nginx writes to.
/// </summary>
[NonParallelizable]
public sealed partial class NginxProxyTests
{
    private const string Nginx = "/usr/sbin/nginx";

    private static string ShippedConfig()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "CameraRpc.Server", "deploy", "nginx", "camerarpc.conf");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("CameraRpc.Server/deploy/nginx/camerarpc.conf not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// The shipped config with TLS turned into a plain listener on <paramref name="listenPort"/>, the
    /// upstream on <paramref name="serverPort"/>, and the access log (its format kept) in <paramref name="logDirectory"/>.
    /// </summary>
    internal static string TestVariant(string shipped, int listenPort, int serverPort, string logDirectory)
    {
        bool listened = false;
        var lines = new List<string>();
        foreach (string line in shipped.Split('\n'))
        {
            string trimmed = line.TrimStart();
            if (trimmed.StartsWith("listen ", StringComparison.Ordinal))
            {
                if (!listened)
                {
                    lines.Add($"    listen 127.0.0.1:{listenPort};");
                    listened = true;
                }

                continue;
            }

            if (trimmed.StartsWith("ssl_", StringComparison.Ordinal))
            {
                continue;
            }

            if (trimmed.StartsWith("access_log ", StringComparison.Ordinal))
            {
                string[] words = trimmed.TrimEnd(';').Split(' ', StringSplitOptions.RemoveEmptyEntries);
                lines.Add($"    access_log {Path.Combine(logDirectory, Path.GetFileName(words[1]))} {string.Join(' ', words[2..])};");
                continue;
            }

            lines.Add(UpstreamServer().Replace(line, $"server 127.0.0.1:{serverPort};"));
        }

        listened.Should().BeTrue("the shipped config has a listen line");
        return string.Join('\n', lines);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_websocket_call_goes_through_nginx_with_the_shipped_config(CancellationToken cancellationToken)
    {
        if (!File.Exists(Nginx))
        {
            Assert.Inconclusive($"nginx is not installed ({Nginx}); `apt-get install -y nginx` to run this test (.ci/run does)");
        }

        const string Token = "nginx-must-not-log-this-token";
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--idle-timeout", "300", "--auth-token", Token);
        (Process nginx, DirectoryInfo prefix, int listenPort) = await StartNginxAsync(server.Port, cancellationToken);
        try
        {
            // A browser's way to authenticate: the token in the query of the upgrade.
            var proxied = new Uri($"ws://127.0.0.1:{listenPort}/ws?access_token={Token}");
            await using (RpcTestClient client = await RpcTestClient.ConnectAsync(proxied, cancellationToken))
            {
                for (int i = 0; i < 20; i++)
                {
                    (await client.CallAsync($$"""{"jsonrpc":"2.0","method":"echo","params":["through nginx {{i}}"],"id":{{i}}}""", cancellationToken))
                        .Should().Be($$"""{"jsonrpc":"2.0","result":"through nginx {{i}}","id":{{i}}}""", "the WebSocket upgrade and frames pass through nginx");
                }
            }

            using var http = new System.Net.Http.HttpClient();
            string health = await http.GetStringAsync(new Uri($"http://127.0.0.1:{listenPort}/healthz"), cancellationToken);
            health.Should().Contain("\"status\":\"ok\"", "plain HTTP endpoints pass through too");

            // nginx, not the server, refuses an absurd request line (HttpListener would accept it).
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, listenPort, cancellationToken);
            NetworkStream stream = tcp.GetStream();
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"GET /ws?{new string('q', 100_000)} HTTP/1.1\r\nHost: x\r\n\r\n"), cancellationToken);
            byte[] head = new byte[64];
            int read = await stream.ReadAsync(head, cancellationToken);
            System.Text.Encoding.ASCII.GetString(head, 0, read).Should().StartWith("HTTP/1.1 414", "large_client_header_buffers caps the request line in front of the server");

            // The shipped access log records the upgrade by its path, never the query that carried the token.
            // nginx writes a request's line when the request ends: stop nginx first so that every line is out.
            nginx.Kill(entireProcessTree: true);
            await nginx.WaitForExitAsync(cancellationToken);
            string accessLog = await File.ReadAllTextAsync(Path.Combine(prefix.FullName, "camerarpc.access.log"), cancellationToken);
            accessLog.Should().Contain("\"GET /ws HTTP/1.1\" 101", "the shipped config has its own access log with the upgrade in it");
            accessLog.Should().NotContain(Token, "the token must not reach nginx's access log");
        }
        finally
        {
            nginx.Kill(entireProcessTree: true);
            await nginx.WaitForExitAsync(CancellationToken.None);
            nginx.Dispose();
            prefix.Delete(recursive: true);
        }
    }

    /// <summary>nginx with the shipped config in front of the server on <paramref name="serverPort"/>, listening on a free port.</summary>
    private static async Task<(Process Nginx, DirectoryInfo Prefix, int ListenPort)> StartNginxAsync(int serverPort, CancellationToken cancellationToken)
    {
        DirectoryInfo prefix = Directory.CreateTempSubdirectory("camerarpc-nginx-");
        int listenPort = FreePort();
        string shipped = await File.ReadAllTextAsync(ShippedConfig(), cancellationToken);
        string conf = $$"""
            {{(Environment.UserName == "root" ? "user root;" : string.Empty)}}
            worker_processes 1;
            pid {{prefix.FullName}}/nginx.pid;
            error_log {{prefix.FullName}}/error.log info;
            events { worker_connections 256; }
            http {
                access_log {{prefix.FullName}}/access.log;
                client_body_temp_path {{prefix.FullName}}/body;
                proxy_temp_path {{prefix.FullName}}/proxy;
                fastcgi_temp_path {{prefix.FullName}}/fastcgi;
                uwsgi_temp_path {{prefix.FullName}}/uwsgi;
                scgi_temp_path {{prefix.FullName}}/scgi;
            {{TestVariant(shipped, listenPort, serverPort, prefix.FullName)}}
            }
            """;
        string confPath = Path.Combine(prefix.FullName, "nginx.conf");
        await File.WriteAllTextAsync(confPath, conf, cancellationToken);

        var info = new ProcessStartInfo(Nginx, ["-p", prefix.FullName, "-c", confPath, "-e", Path.Combine(prefix.FullName, "error.log"), "-g", "daemon off;"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        Process nginx = Process.Start(info)!;
        await WaitForPortAsync(listenPort, nginx, prefix.FullName, cancellationToken);
        return (nginx, prefix, listenPort);
    }

    [Test, CancelAfter(60_000)]
    public async Task behind_the_shipped_config_the_log_shows_the_real_client_address_and_not_a_spoofed_one(CancellationToken cancellationToken)
    {
        if (!File.Exists(Nginx))
        {
            Assert.Inconclusive($"nginx is not installed ({Nginx}); `apt-get install -y nginx` to run this test (.ci/run does)");
        }

        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--trusted-proxies", "127.0.0.1");
        (Process nginx, DirectoryInfo prefix, int listenPort) = await StartNginxAsync(server.Port, cancellationToken);
        try
        {
            // The client comes from 127.0.0.7 (any 127/8 address is local), so that it differs from nginx's
            // own 127.0.0.1, and it forges an X-Forwarded-For that nginx then appends its view of it to.
            using var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (context, token) =>
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.7"), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, token);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            };
            using var http = new HttpClient(handler);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://127.0.0.1:{listenPort}/ws"))
            {
                Content = new StringContent("""{"jsonrpc":"2.0","method":"ping","id":1}""", System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Forwarded-For", "6.6.6.6");
            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
            ((int)response.StatusCode).Should().Be(200);

            string received = await server.WaitForLineAsync(line => line.Contains("Received from ", StringComparison.Ordinal), cancellationToken);
            received.Should().Contain("Received from 127.0.0.7 via 127.0.0.1:", "nginx is trusted, so the client it names is the one logged");
            server.Lines.Should().NotContain(line => line.Contains("6.6.6.6", StringComparison.Ordinal), "what the client wrote left of nginx's entry proves nothing");
        }
        finally
        {
            nginx.Kill(entireProcessTree: true);
            await nginx.WaitForExitAsync(CancellationToken.None);
            nginx.Dispose();
            prefix.Delete(recursive: true);
        }
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static async Task WaitForPortAsync(int port, Process nginx, string prefix, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (nginx.HasExited)
            {
                string log = File.Exists(Path.Combine(prefix, "error.log")) ? await File.ReadAllTextAsync(Path.Combine(prefix, "error.log"), cancellationToken) : string.Empty;
                Assert.Fail($"nginx exited ({nginx.ExitCode}): {await nginx.StandardError.ReadToEndAsync(cancellationToken)}\n{log}");
            }

            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(20, cancellationToken); // spacing the polls; bounded by the test's timeout
            }
        }
    }

    [GeneratedRegex(@"server\s+127\.0\.0\.1:8002;")]
    private static partial Regex UpstreamServer();
}
