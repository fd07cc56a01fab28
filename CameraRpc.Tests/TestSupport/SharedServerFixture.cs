namespace CameraRpc.Tests.TestSupport;

/// <summary>
/// A fixture whose tests share one server process: started once before the first test, with
/// <see cref="ServerArguments"/>, and stopped after the last.
/// </summary>
public abstract class SharedServerFixture
{
    private ServerProcess? _server;

    /// <summary>The fixture's server.</summary>
    protected ServerProcess Server => _server ?? throw new InvalidOperationException("The server did not start");

    /// <summary>Options the server starts with, besides the test defaults of <see cref="ServerProcess"/>.</summary>
    protected virtual string[] ServerArguments => [];

    [OneTimeSetUp]
    public async Task StartServerAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _server = await ServerProcess.StartAsync(timeout.Token, ServerArguments);
    }

    [OneTimeTearDown]
    public async Task StopServerAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
