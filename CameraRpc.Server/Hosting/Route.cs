using CameraRpc.Server.Endpoints;

namespace CameraRpc.Server.Hosting;

/// <summary>Where <see cref="RequestRouter.Find"/> sends a request: an endpoint, or a refusal status (404, 405 with <see cref="Allow"/>, 426).</summary>
internal readonly record struct Route(IHttpEndpoint? Endpoint, int Status, string? Allow = null)
{
    public static Route NotFound { get; } = new(null, 404);

    public static Route UpgradeRequired { get; } = new(null, 426);

    public static Route To(IHttpEndpoint endpoint) => new(endpoint, 0);

    public static Route MethodNotAllowed(string allow) => new(null, 405, allow);
}
