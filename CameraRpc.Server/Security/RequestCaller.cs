using System.Net;

namespace CameraRpc.Server.Security;

/// <summary>Who sent a request, as the endpoints use it: the real client address, how the log names it, and its token.</summary>
/// <param name="Address">The client's address (behind trusted proxies, the one they name).</param>
/// <param name="EndPoint">What <c>RpcContext.RemoteEndPoint</c> shows: the address, with the peer's port when the peer is the client (0 when forwarded).</param>
/// <param name="Display">How log lines name the client: <c>203.0.113.7:50123</c>, or <c>203.0.113.7 via 127.0.0.1:41234</c> behind a proxy.</param>
/// <param name="Identity">The token presented, or null when none is required.</param>
internal sealed record RequestCaller(IPAddress Address, IPEndPoint EndPoint, string Display, TokenIdentity? Identity)
{
    /// <summary>The caller of <paramref name="request"/>, before its token is checked.</summary>
    public static RequestCaller Of(HttpListenerRequest request, AccessControl access)
    {
        IPEndPoint? peer = request.RemoteEndPoint;
        IPAddress address = access.ClientAddress(request);
        bool direct = peer is not null && address.Equals(ClientAddressResolver.Normalize(peer.Address));
        var endPoint = new IPEndPoint(address, direct ? peer!.Port : 0);
        return new RequestCaller(address, endPoint, AccessControl.Describe(address, peer), null);
    }
}
