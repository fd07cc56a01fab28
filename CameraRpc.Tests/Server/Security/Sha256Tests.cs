using System.Security.Cryptography;
using System.Text;
using CameraRpc.Server.Security;

namespace CameraRpc.Tests.Server.Security;

/// <summary>The server's own SHA-256 for token hashes (the server does not load OpenSSL for it).</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Sha256Tests
{
    [Test]
    public void sha256_gives_the_platforms_hash_for_every_length_across_two_blocks_and_for_long_inputs()
    {
        var random = new Random(180_4);
        byte[] expected = new byte[32];
        byte[] actual = new byte[32];
        foreach (int length in Enumerable.Range(0, 200).Concat([1_000, 4_096, 65_537]))
        {
            byte[] input = new byte[length];
            random.NextBytes(input);
            SHA256.HashData(input, expected);
            Sha256.HashData(input, actual);
            actual.Should().Equal(expected, $"SHA-256 of {length} bytes (padding fits one or two blocks depending on the length)");
        }
    }

    [Test]
    public void sha256_of_abc_is_the_fips_180_example()
    {
        byte[] actual = new byte[32];
        Sha256.HashData("abc"u8, actual);
        Convert.ToHexStringLower(actual).Should().Be("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "FIPS 180-2 appendix B.1");
    }

    [Test]
    public void a_token_hashes_as_printf_piped_to_sha256sum_does()
    {
        // printf %s "viewer-secret" | sha256sum
        Convert.ToHexStringLower(TokenSet.Hash("viewer-secret"))
            .Should().Be(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("viewer-secret"))));
    }
}
