using System.Text;
using CameraRpc.Protocol;

namespace CameraRpc.Tests.TestSupport;

/// <summary>Runs messages through a real <see cref="RpcDispatcher"/> in process and returns the answers as text.</summary>
public sealed class InProcessRpc
{
    public InProcessRpc(RpcMethodTable? methods = null, RpcDispatcherOptions? options = null)
    {
        Dispatcher = new RpcDispatcher(methods ?? BuiltInRpcMethods.Table, options);
        Context = new RpcContext(Dispatcher, 1, null, null);
    }

    public RpcDispatcher Dispatcher { get; }

    public RpcContext Context { get; }

    /// <summary>The answer to <paramref name="message"/>, or null when there is none.</summary>
    public async Task<string?> CallAsync(string message, CancellationToken cancellationToken = default) =>
        await CallAsync(Encoding.UTF8.GetBytes(message), cancellationToken);

    public async Task<string?> CallAsync(byte[] message, CancellationToken cancellationToken = default)
    {
        RpcResponseBuffer output = RpcResponseBuffer.Rent();
        try
        {
            bool answered = await Dispatcher.DispatchAsync(message, output, Context, cancellationToken);
            if (!answered)
            {
                output.WrittenCount.Should().Be(0, "nothing is written when there is nothing to answer");
                return null;
            }

            return Encoding.UTF8.GetString(output.WrittenSpan);
        }
        finally
        {
            RpcResponseBuffer.Return(output);
        }
    }
}
