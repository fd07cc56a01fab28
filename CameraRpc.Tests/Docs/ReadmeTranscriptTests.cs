using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Docs;

/// <summary>
/// Every <c>--&gt;</c>/<c>&lt;--</c> transcript in any of the four guides is what the server answers today, byte
/// for byte: a message of the built-in methods against the shipped method table, a <c>camera.*</c> message of the
/// method author's camera example over a real WebSocket to a server that has that example's methods.
/// </summary>
[Parallelizable(ParallelScope.All)]
public sealed class ReadmeTranscriptTests
{
    /// <summary>One message a guide shows a client sending, and every message it shows coming back.</summary>
    public sealed record Exchange(string Guide, int Line, string Request, IReadOnlyList<string> Answers)
    {
        public bool UsesExampleMethods => Request.Contains("\"camera.", StringComparison.Ordinal);

        public override string ToString() => $"{Guide} line {Line}";
    }

    public static IEnumerable<Exchange> Exchanges() => GuideDocument.All.SelectMany(ExchangesIn);

    private static IEnumerable<Exchange> ExchangesIn(GuideDocument guide)
    {
        string[] lines = guide.Text.Split('\n');
        int? requestLine = null;
        string? request = null;
        var answers = new List<string>();
        for (int i = 0; i <= lines.Length; i++)
        {
            string line = i < lines.Length ? lines[i] : string.Empty;
            if (line.StartsWith("<-- ", StringComparison.Ordinal) && request is not null)
            {
                answers.Add(line[4..]);
                continue;
            }

            if (request is not null)
            {
                yield return new Exchange(guide.RelativePath, requestLine!.Value, request, answers.ToArray());
                request = null;
                answers.Clear();
            }

            if (line.StartsWith("--> ", StringComparison.Ordinal))
            {
                requestLine = i + 1;
                request = line[4..];
            }
        }
    }

    [Test]
    public void the_guides_have_transcripts_of_the_built_in_methods_errors_batches_and_the_example()
    {
        List<Exchange> exchanges = Exchanges().ToList();
        exchanges.Should().Contain(e => e.Request.Contains("rpc.discover", StringComparison.Ordinal), "the guides show rpc.discover");
        exchanges.Should().Contain(e => e.Answers.Count == 0, "and a message that gets no answer");
        exchanges.Should().Contain(e => e.UsesExampleMethods && e.Answers.Count == 2, "and the example's push before its answer");
    }

    [TestCaseSource(nameof(Exchanges))]
    [CancelAfter(30_000)]
    public async Task the_guides_transcript_is_what_the_server_answers(Exchange exchange, CancellationToken cancellationToken)
    {
        if (!exchange.UsesExampleMethods)
        {
            string? answer = await new InProcessRpc().CallAsync(exchange.Request, cancellationToken);
            (answer is null ? [] : new[] { answer }).Should().Equal(exchange.Answers, $"{exchange} shows the shipped server's answer");
            return;
        }

        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await client.SendAsync(exchange.Request, cancellationToken);
        var received = new List<string>();
        while (received.Count < exchange.Answers.Count && await client.ReceiveAsync(cancellationToken) is { } message)
        {
            received.Add(message.Text);
        }

        received.Should().Equal(exchange.Answers, $"{exchange} shows what a client of the example's methods receives, in order");
    }
}
