using System.Net.WebSockets;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.Hardening.Support;

/// <summary>
/// A well-behaved client that keeps calling <c>echo</c> on its own connection while a test abuses the
/// server, and checks every answer. <see cref="StopAsync"/> returns how many calls it made and fails
/// the test at the first wrong answer or lost connection.
/// </summary>
public sealed class SteadyClient : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task<int> _loop;

    private SteadyClient(RpcTestClient client, CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _loop = RunAsync(client, _stop.Token, cancellationToken);
    }

    /// <summary>Answers checked so far.</summary>
    public int Answered => Volatile.Read(ref _answered);

    private int _answered;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<SteadyClient> StartAsync(Uri uri, CancellationToken cancellationToken)
    {
        RpcTestClient client = await RpcTestClient.ConnectAsync(uri, cancellationToken);
        return new SteadyClient(client, cancellationToken);
    }

    /// <summary>Waits until at least <paramref name="more"/> further answers have arrived (proof of progress now).</summary>
    /// <remarks>Woken by each answer, no polling; bounded by <paramref name="cancellationToken"/>. Throws when the client stopped or failed.</remarks>
    public async Task WaitForProgressAsync(int more, CancellationToken cancellationToken)
    {
        int target = Answered + more;
        while (true)
        {
            Task progress = Volatile.Read(ref _progress).Task; // read before the count: an answer in between completes it
            if (Answered >= target)
            {
                return;
            }

            if (await Task.WhenAny(progress, _loop).WaitAsync(cancellationToken) == _loop)
            {
                await _loop; // surfaces its failure
                throw new InvalidOperationException("the steady client stopped");
            }
        }
    }

    /// <summary>Stops the loop; returns the number of answers checked. Throws when one was wrong.</summary>
    public async Task<int> StopAsync()
    {
        _stop.Cancel();
        return await _loop;
    }

    private async Task<int> RunAsync(RpcTestClient client, CancellationToken stop, CancellationToken testToken)
    {
        await using (client)
        {
            for (int i = 1; !stop.IsCancellationRequested; i++)
            {
                string answer = await client.CallAsync($$"""{"jsonrpc":"2.0","method":"echo","params":["steady {{i}}"],"id":{{i}}}""", testToken);
                answer.Should().Be($$"""{"jsonrpc":"2.0","result":"steady {{i}}","id":{{i}}}""", "a well-behaved client is answered correctly whatever other clients do");
                Interlocked.Increment(ref _answered);
                Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }

            client.Socket.State.Should().Be(WebSocketState.Open, "the well-behaved client's connection stays open");
        }

        return Answered;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await _loop;
        }
        catch (Exception)
        {
            // Reported by StopAsync when the test gets that far.
        }

        _stop.Dispose();
    }
}
