using System.Net.WebSockets;
using CameraRpc.Server.Transport;

namespace CameraRpc.Tests.Transport;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class PerMessageDeflateNegotiationTests
{
    // The server's shipped choice: no context takeover either way, full windows.
    private static readonly PerMessageDeflatePolicy s_noTakeover = new(15, ServerContextTakeover: false, 15, ClientContextTakeover: false);

    // A server that would keep its contexts, to see what the client's own parameters do.
    private static readonly PerMessageDeflatePolicy s_takeover = new(15, ServerContextTakeover: true, 15, ClientContextTakeover: true);

    private const string NoTakeoverAnswer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

    [Test]
    public void the_default_policy_keeps_no_context_in_either_direction()
    {
        PerMessageDeflatePolicy.Default.ServerContextTakeover.Should().BeFalse("an idle connection holds no compressor (CONTRACT section 7)");
        PerMessageDeflatePolicy.Default.ClientContextTakeover.Should().BeFalse("an idle connection holds no decompressor either");
    }

    [TestCase("permessage-deflate", TestName = "Firefox and a bare offer")]
    [TestCase("permessage-deflate; client_max_window_bits", TestName = "Chrome, Safari and Python websockets")]
    [TestCase("permessage-deflate; client_max_window_bits=15; server_max_window_bits=15", TestName = "the runtime's ClientWebSocket defaults")]
    public void a_real_clients_offer_is_accepted_without_context_takeover(string offer)
    {
        PerMessageDeflateAgreement agreement = Negotiate(offer, s_noTakeover);

        agreement.ResponseHeader.Should().StartWith(NoTakeoverAnswer, "the server never keeps a context between messages");
        agreement.Options.ServerContextTakeover.Should().BeFalse();
        agreement.Options.ClientContextTakeover.Should().BeFalse();
        agreement.Options.ClientMaxWindowBits.Should().Be(15);
        agreement.Options.ServerMaxWindowBits.Should().Be(15);
    }

    [Test]
    public void a_bare_offer_gets_a_bare_answer_from_a_server_that_keeps_contexts()
    {
        PerMessageDeflateAgreement agreement = Negotiate("permessage-deflate", s_takeover);

        agreement.ResponseHeader.Should().Be("permessage-deflate");
        agreement.Options.ServerContextTakeover.Should().BeTrue();
        agreement.Options.ClientContextTakeover.Should().BeTrue();
    }

    [Test]
    public void client_max_window_bits_without_a_value_lets_the_server_name_a_smaller_client_window()
    {
        PerMessageDeflateAgreement agreement = Negotiate("permessage-deflate; client_max_window_bits", s_takeover with { ClientMaxWindowBits = 12 });

        agreement.ResponseHeader.Should().Be("permessage-deflate; client_max_window_bits=12");
        agreement.Options.ClientMaxWindowBits.Should().Be(12, "the server inflates what the client sends with the window it asked for");
    }

    [Test]
    public void a_client_window_is_never_asked_for_when_the_client_did_not_offer_the_parameter()
    {
        PerMessageDeflateAgreement agreement = Negotiate("permessage-deflate", s_takeover with { ClientMaxWindowBits = 12 });

        agreement.ResponseHeader.Should().Be("permessage-deflate", "RFC 7692 section 7.1.2.2: the server must not answer client_max_window_bits unasked");
        agreement.Options.ClientMaxWindowBits.Should().Be(15, "such a client may use the full window");
    }

    [TestCase(15, 10, 10, "permessage-deflate")]
    [TestCase(12, 10, 10, "permessage-deflate")]
    [TestCase(12, 14, 12, "permessage-deflate; client_max_window_bits=12")]
    [TestCase(15, 8, 9, "permessage-deflate")]
    public void client_max_window_bits_with_a_value_limits_the_clients_window(int policyBits, int offeredBits, int inflateBits, string answer)
    {
        PerMessageDeflateAgreement agreement = Negotiate($"permessage-deflate; client_max_window_bits={offeredBits}", s_takeover with { ClientMaxWindowBits = policyBits });

        agreement.ResponseHeader.Should().Be(answer);
        agreement.Options.ClientMaxWindowBits.Should().Be(inflateBits, "an 8-bit stream is inflated with 9 bits, the runtime's smallest (a wider inflate window reads any narrower stream)");
    }

    [TestCase(15, 10, 10)]
    [TestCase(12, 14, 12)]
    [TestCase(15, 15, 15)]
    [TestCase(9, 9, 9)]
    public void server_max_window_bits_is_answered_with_the_window_the_server_will_use(int policyBits, int offeredBits, int usedBits)
    {
        PerMessageDeflateAgreement agreement = Negotiate($"permessage-deflate; server_max_window_bits={offeredBits}", s_takeover with { ServerMaxWindowBits = policyBits });

        agreement.ResponseHeader.Should().Be($"permessage-deflate; server_max_window_bits={usedBits}", "RFC 7692 section 7.1.2.1: an offered limit must be answered");
        agreement.Options.ServerMaxWindowBits.Should().Be(usedBits);
    }

    [Test]
    public void a_server_that_compresses_with_a_smaller_window_says_so_unasked()
    {
        PerMessageDeflateAgreement agreement = Negotiate("permessage-deflate", s_noTakeover with { ServerMaxWindowBits = 11 });

        agreement.ResponseHeader.Should().Be(NoTakeoverAnswer + "; server_max_window_bits=11");
        agreement.Options.ServerMaxWindowBits.Should().Be(11);
    }

    [Test]
    public void server_max_window_bits_of_8_is_declined_because_the_runtime_cannot_compress_with_it()
    {
        PerMessageDeflateNegotiation.Negotiate("permessage-deflate; server_max_window_bits=8", s_noTakeover).Should().BeNull("zlib silently widens 8 bits to 9, which the client could not inflate");
    }

    [Test]
    public void server_no_context_takeover_offered_by_the_client_is_honoured_and_answered()
    {
        PerMessageDeflateAgreement agreement = Negotiate("permessage-deflate; server_no_context_takeover", s_takeover);

        agreement.ResponseHeader.Should().Be("permessage-deflate; server_no_context_takeover");
        agreement.Options.ServerContextTakeover.Should().BeFalse();
        agreement.Options.ClientContextTakeover.Should().BeTrue();
    }

    [Test]
    public void client_no_context_takeover_offered_by_the_client_is_answered()
    {
        PerMessageDeflateAgreement agreement = Negotiate("permessage-deflate; client_no_context_takeover", s_takeover);

        agreement.ResponseHeader.Should().Be("permessage-deflate; client_no_context_takeover");
        agreement.Options.ClientContextTakeover.Should().BeFalse("the client said it will start every message afresh");
        agreement.Options.ServerContextTakeover.Should().BeTrue();
    }

    [Test]
    public void every_parameter_together_is_answered_in_one_value()
    {
        PerMessageDeflateAgreement agreement = Negotiate(
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits",
            s_noTakeover with { ClientMaxWindowBits = 11 });

        agreement.ResponseHeader.Should().Be(NoTakeoverAnswer + "; server_max_window_bits=10; client_max_window_bits=11");
        agreement.Options.ServerMaxWindowBits.Should().Be(10);
        agreement.Options.ClientMaxWindowBits.Should().Be(11);
    }

    [Test]
    public void of_several_offers_in_one_header_the_first_acceptable_one_is_taken()
    {
        PerMessageDeflateAgreement agreement = Negotiate(
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits, permessage-deflate; client_max_window_bits, permessage-deflate",
            s_takeover);

        agreement.ResponseHeader.Should().Be("permessage-deflate; server_max_window_bits=10", "the client lists its offers in order of preference");
    }

    [Test]
    public void an_unacceptable_first_offer_falls_back_to_the_next()
    {
        PerMessageDeflateAgreement agreement = Negotiate("permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9", s_takeover);

        agreement.ResponseHeader.Should().Be("permessage-deflate; server_max_window_bits=9");
    }

    [Test]
    public void offers_over_several_header_lines_are_read_in_order()
    {
        // HttpListener hands repeated header lines over joined with commas (the end-to-end tests send them as lines).
        PerMessageDeflateAgreement? agreement = PerMessageDeflateNegotiation.Negotiate(
            string.Join(",", "x-webkit-deflate-frame", "permessage-deflate; server_max_window_bits=7", "permessage-deflate; server_max_window_bits=12", "permessage-deflate"),
            s_takeover);

        agreement.Should().NotBeNull();
        agreement!.ResponseHeader.Should().Be("permessage-deflate; server_max_window_bits=12");
    }

    [TestCase("x-webkit-deflate-frame, permessage-deflate")]
    [TestCase("foo; bar=1; baz=\"a,b;c\", permessage-deflate")]
    [TestCase("permessage-deflate, x-webkit-deflate-frame")]
    [TestCase(" , permessage-deflate ,, ")]
    public void other_extensions_beside_it_are_left_out_of_the_answer(string header)
    {
        Negotiate(header, s_takeover).ResponseHeader.Should().Be("permessage-deflate");
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    [TestCase("x-webkit-deflate-frame")]
    [TestCase("deflate-frame; no_context_takeover")]
    [TestCase("permessage-deflatex")]
    public void a_header_without_a_permessage_deflate_offer_agrees_nothing(string? header)
    {
        PerMessageDeflateNegotiation.Negotiate(header, s_noTakeover).Should().BeNull();
    }

    [TestCase("permessage-deflate; server_no_context_takeover; server_no_context_takeover", TestName = "a repeated server_no_context_takeover")]
    [TestCase("permessage-deflate; client_no_context_takeover; client_no_context_takeover", TestName = "a repeated client_no_context_takeover")]
    [TestCase("permessage-deflate; server_max_window_bits=10; server_max_window_bits=11", TestName = "a repeated server_max_window_bits")]
    [TestCase("permessage-deflate; client_max_window_bits; client_max_window_bits=10", TestName = "a repeated client_max_window_bits")]
    [TestCase("permessage-deflate; server_max_window_bits=7", TestName = "server_max_window_bits=7")]
    [TestCase("permessage-deflate; server_max_window_bits=16", TestName = "server_max_window_bits=16")]
    [TestCase("permessage-deflate; server_max_window_bits=abc", TestName = "server_max_window_bits=abc")]
    [TestCase("permessage-deflate; server_max_window_bits=010", TestName = "server_max_window_bits with a leading zero")]
    [TestCase("permessage-deflate; server_max_window_bits=", TestName = "server_max_window_bits with an empty value")]
    [TestCase("permessage-deflate; server_max_window_bits", TestName = "server_max_window_bits without a value")]
    [TestCase("permessage-deflate; client_max_window_bits=7", TestName = "client_max_window_bits=7")]
    [TestCase("permessage-deflate; client_max_window_bits=16", TestName = "client_max_window_bits=16")]
    [TestCase("permessage-deflate; client_max_window_bits=abc", TestName = "client_max_window_bits=abc")]
    [TestCase("permessage-deflate; client_max_window_bits=-9", TestName = "client_max_window_bits=-9")]
    [TestCase("permessage-deflate; server_no_context_takeover=1", TestName = "server_no_context_takeover with a value")]
    [TestCase("permessage-deflate; client_no_context_takeover=\"x\"", TestName = "client_no_context_takeover with a quoted value")]
    [TestCase("permessage-deflate; mystery_parameter", TestName = "an unknown parameter")]
    [TestCase("permessage-deflate;", TestName = "an empty parameter")]
    [TestCase("permessage-deflate; server_max_window_bits=\"1 0\"", TestName = "a quoted value that is not a token")]
    [TestCase("permessage-deflate; =10", TestName = "a parameter without a name")]
    public void a_malformed_offer_is_declined_and_the_next_one_taken(string offer)
    {
        Negotiate(offer, s_noTakeover, allowNone: true).Should().BeNull("an offer the server cannot take is left out of the answer, never a failed upgrade");
        Negotiate(offer + ", permessage-deflate", s_noTakeover).ResponseHeader.Should().Be(NoTakeoverAnswer);
    }

    [Test]
    public void a_quoted_window_value_is_read_like_a_token()
    {
        Negotiate("permessage-deflate; server_max_window_bits=\"10\"", s_takeover).ResponseHeader.Should().Be("permessage-deflate; server_max_window_bits=10");
    }

    [Test]
    public void names_are_compared_without_regard_to_case_and_spaces_around_them_are_ignored()
    {
        Negotiate("  PerMessage-Deflate ;  Client_Max_Window_Bits = 10 ;SERVER_NO_CONTEXT_TAKEOVER  ", s_takeover).ResponseHeader
            .Should().Be("permessage-deflate; server_no_context_takeover");
    }

    [TestCase("\"")]
    [TestCase(";;;,,,===")]
    [TestCase("permessage-deflate; \"\\")]
    [TestCase("permessage-deflate; a=\"\\\"")]
    [TestCase("\u00e9t\u00e9; permessage-deflate")]
    [TestCase("permessage-deflate; server_max_window_bits=\"10, permessage-deflate")]
    public void garbage_never_throws(string header)
    {
        Action negotiate = () => PerMessageDeflateNegotiation.Negotiate(header, s_noTakeover);

        negotiate.Should().NotThrow();
    }

    [Test]
    public void the_agreed_options_are_ones_the_runtime_websocket_accepts()
    {
        PerMessageDeflateAgreement agreement = Negotiate("permessage-deflate; client_max_window_bits=8; server_max_window_bits=9", s_takeover);

        using var stream = new MemoryStream();
        Action create = () => WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, DangerousDeflateOptions = agreement.Options }).Dispose();

        create.Should().NotThrow();
    }

    private static PerMessageDeflateAgreement Negotiate(string offer, PerMessageDeflatePolicy policy) => Negotiate(offer, policy, allowNone: false)!;

    private static PerMessageDeflateAgreement? Negotiate(string offer, PerMessageDeflatePolicy policy, bool allowNone)
    {
        PerMessageDeflateAgreement? agreement = PerMessageDeflateNegotiation.Negotiate(offer, policy);
        if (!allowNone)
        {
            agreement.Should().NotBeNull($"'{offer}' is an offer the server can take");
        }

        return agreement;
    }
}
