using System.Net;

namespace CameraRpc.Server.Endpoints;

/// <summary>
/// Answers the requests <see cref="Hosting.RequestRouter"/> sends it (one path, the methods the
/// routing table gives it).
/// </summary>
/// <remarks>
/// An endpoint finishes or hands over the response before its task completes. It may throw only for a
/// bug of its own: the router logs that and aborts the response.
/// </remarks>
internal interface IHttpEndpoint
{
    Task HandleAsync(HttpListenerContext context);
}
