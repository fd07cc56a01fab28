using System.Net.WebSockets;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Docs;

/// <summary>
/// The method author's guide's camera example is a real file of this project (Docs/ReadmeExample/CameraMethods.cs), compiled
/// with the real generator, and it behaves as the guide says over a real WebSocket.
/// </summary>
[NonParallelizable]
public sealed partial class ReadmeExampleTests
{
    private const string ExampleFile = "CameraRpc.Tests/Docs/ReadmeExample/CameraMethods.cs";

    [Test]
    public void the_camera_example_in_the_method_authors_guide_is_the_compiled_file_verbatim()
    {
        string? block = GuideDocument.MethodAuthorGuide.FencedBlockAfter("example: CameraMethods.cs");

        block.Should().NotBeNull($"{GuideDocument.MethodAuthorGuide} marks the example with <!-- example: CameraMethods.cs --> before its code block");
        block.Should().Be(GuideDocument.ReadRepositoryFile(ExampleFile), "the guide shows exactly the code that is compiled and tested");
    }

    [Test, CancelAfter(30_000)]
    public async Task set_exposure_by_name_pushes_the_change_before_its_answer(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        await client.SendAsync("""{"jsonrpc":"2.0","method":"camera.setExposure","params":{"camera":"front","milliseconds":20,"mode":"Auto"},"id":1}""", cancellationToken);

        (await NextAsync(client, cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","method":"camera.exposureChanged","params":{"camera":"front","milliseconds":20,"mode":"Auto"}}""",
            "NotifyAsync runs before the method returns, so the push arrives first");
        (await NextAsync(client, cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","result":{"camera":"front","milliseconds":20,"mode":"Auto"},"id":1}""",
            "then the answer, written through CameraJsonContext");
    }

    [Test, CancelAfter(30_000)]
    public async Task set_exposure_by_position_leaves_the_optional_mode_at_its_default(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        await client.SendAsync("""{"jsonrpc":"2.0","method":"camera.setExposure","params":["rear",12.5],"id":2}""", cancellationToken);

        (await NextAsync(client, cancellationToken)).Should().Contain("\"camera.exposureChanged\"", "the push comes first");
        (await NextAsync(client, cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","result":{"camera":"rear","milliseconds":12.5,"mode":"Manual"},"id":2}""",
            "positions count only the client's parameters (RpcContext and CancellationToken are the server's), and mode defaults to Manual");
        (await client.CallAsync("""{"jsonrpc":"2.0","method":"camera.getExposure","params":["rear"],"id":3}""", cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","result":{"camera":"rear","milliseconds":12.5,"mode":"Manual"},"id":3}""",
            "the new setting is kept");
    }

    [Test, CancelAfter(30_000)]
    public async Task an_unknown_camera_is_the_application_error_the_method_threw(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        (await client.CallAsync("""{"jsonrpc":"2.0","method":"camera.setExposure","params":{"camera":"side","milliseconds":5},"id":4}""", cancellationToken))
            .Should().Be(
                """{"jsonrpc":"2.0","error":{"code":1001,"message":"Unknown camera: side","data":["front","rear"]},"id":4}""",
                "an RpcException reaches the client exactly as thrown, and nothing is pushed for a failed call");
    }

    [Test, CancelAfter(30_000)]
    public async Task a_missing_or_mistyped_parameter_is_invalid_params_naming_it(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);

        (await client.CallAsync("""{"jsonrpc":"2.0","method":"camera.setExposure","params":{"camera":"front"},"id":5}""", cancellationToken))
            .Should().Be(
                """{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"milliseconds","reason":"missing"}},"id":5}""",
                "the guide's -32602 example");
        (await client.CallAsync("""{"jsonrpc":"2.0","method":"camera.setExposure","params":["front","fast"],"id":6}""", cancellationToken))
            .Should().Be(
                """{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"milliseconds","reason":"type"}},"id":6}""",
                "a string where a number is expected is a type failure");
    }

    [Test, CancelAfter(30_000)]
    public async Task over_http_the_example_answers_without_pushing(CancellationToken cancellationToken)
    {
        await using InProcessServer server = InProcessServer.Start();
        using var http = new HttpClient();
        using var body = new StringContent("""{"jsonrpc":"2.0","method":"camera.setExposure","params":["front",30,"Auto"],"id":7}""");

        using HttpResponseMessage answer = await http.PostAsync(server.HttpUri(), body, cancellationToken);

        (await answer.Content.ReadAsStringAsync(cancellationToken)).Should().Be(
            """{"jsonrpc":"2.0","result":{"camera":"front","milliseconds":30,"mode":"Auto"},"id":7}""",
            "the example checks RpcContext.CanNotify, so it also works over HTTP POST, where nothing can be pushed");
    }

    private static async Task<string> NextAsync(RpcTestClient client, CancellationToken cancellationToken)
    {
        (string Text, WebSocketMessageType Type)? message = await client.ReceiveAsync(cancellationToken);
        message.Should().NotBeNull($"the server must answer rather than close the connection ({client.CloseStatus})");
        return message!.Value.Text;
    }
}
