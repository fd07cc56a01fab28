using System.Text;
using CameraRpc.Server.Security;

namespace CameraRpc.Tests.Docs;

/// <summary>The operator's guide's access-control examples are what the server really reads.</summary>
[Parallelizable(ParallelScope.Self)]
public sealed class ReadmeAccessTests
{
    [Test]
    public void the_tokens_file_example_loads_with_a_viewer_and_an_operator()
    {
        string? example = GuideDocument.OperatorGuide.FencedBlockAfter("example: tokens.json");
        example.Should().NotBeNull("the README shows a tokens file");
        TokensFileLoader.TryParse("tokens.json", Encoding.UTF8.GetBytes(example!), out TokenSet? tokens, out string? error).Should().BeTrue(error);
        tokens!.Identities.Select(t => t.Name).Should().Equal("wall-display", "operator-console");
        tokens.Identities[0].HasScope("camera.write").Should().BeFalse("the viewer cannot change the exposure");
        tokens.Identities[1].HasScope("camera.write").Should().BeTrue();
    }

    [Test]
    public void the_stated_bound_of_the_address_table_is_the_code_s()
    {
        string readme = GuideDocument.OperatorGuide.Text;
        readme.Should().Contain($"at most {AddressRateTable.DefaultCapacity:N0} remembered addresses");
        readme.Should().Contain($"each under {AddressRateTable.ApproximateEntryBytes} bytes");
        ((long)AddressRateTable.DefaultCapacity * AddressRateTable.ApproximateEntryBytes).Should().BeLessThanOrEqualTo(5L * 1024 * 1024 + 256 * 1024, "about 5 MiB");
    }
}
