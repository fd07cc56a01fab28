using CameraRpc.Server.Configuration;
using CameraRpc.Server.Security;

namespace CameraRpc.Tests.Server.Security;

/// <summary>The admission steps <see cref="AccessControl"/> hands out.</summary>
[TestFixture]
[NonParallelizable] // measures this thread's allocations
public sealed class AccessControlTests
{
    [Test]
    public void with_a_tokens_file_the_admission_of_an_http_request_is_made_once_per_token_and_then_allocates_nothing()
    {
        string file = Path.Combine(Path.GetTempPath(), "camerarpc-access-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, "{\"tokens\":[{\"name\":\"wall-display\",\"sha256\":\"" + Convert.ToHexString(TokenSet.Hash("secret")) + "\",\"scopes\":[\"camera.read\"]}]}");
        try
        {
            AccessControl.TryCreate(ServerOptions.Default with { TokensFile = file }, new RateLimitCounters(), out AccessControl? access, out string? error)
                .Should().BeTrue(error);
            TokenIdentity identity = access!.Tokens!.FindByHash(TokenSet.Hash("secret"))!;

            CallAdmission first = access.ForHttpRequest(identity)!;
            long before = GC.GetAllocatedBytesForCurrentThread();
            CallAdmission second = access.ForHttpRequest(identity)!;
            (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0, "a POST with a token allocates no admission step of its own");

            second.Should().BeSameAs(first);
            second.HasScope("camera.read").Should().BeTrue();
            second.HasScope("camera.write").Should().BeFalse("the shared step still checks the token's scopes");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
