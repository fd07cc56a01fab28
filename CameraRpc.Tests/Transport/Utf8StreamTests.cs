using CameraRpc.Server.Transport;

namespace CameraRpc.Tests.Transport;

/// <summary>UTF-8 checked piece by piece, as a text message's frames and reads deliver it.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Utf8StreamTests
{
    [Test]
    public void valid_text_is_accepted_however_it_is_cut()
    {
        byte[] text = "{\"a\":\"Grüße € 📷 ok\"}"u8.ToArray();
        for (int cut = 0; cut <= text.Length; cut++)
        {
            var check = new Utf8Stream();
            (check.Accept(text.AsSpan(0, cut), endOfMessage: false) && check.Accept(text.AsSpan(cut), endOfMessage: true))
                .Should().BeTrue($"cut at byte {cut}");
        }
    }

    [TestCase(new byte[] { 0x80 }, TestName = "a lone continuation byte")]
    [TestCase(new byte[] { 0xC0, 0xAF }, TestName = "an overlong two-byte form")]
    [TestCase(new byte[] { 0xE0, 0x80, 0xAF }, TestName = "an overlong three-byte form")]
    [TestCase(new byte[] { 0xED, 0xA0, 0x80 }, TestName = "a surrogate")]
    [TestCase(new byte[] { 0xF4, 0x90, 0x80, 0x80 }, TestName = "past U+10FFFF")]
    [TestCase(new byte[] { 0xF8, 0x88, 0x80, 0x80, 0x80 }, TestName = "a five-byte lead")]
    [TestCase(new byte[] { 0xC3, 0x28 }, TestName = "a sequence broken by ASCII")]
    [TestCase(new byte[] { 0xE2, 0x82 }, TestName = "a sequence left open at the end")]
    public void invalid_text_is_refused(byte[] bytes)
    {
        var check = new Utf8Stream();

        check.Accept([(byte)'a', .. bytes], endOfMessage: true).Should().BeFalse();
    }

    [Test]
    public void a_sequence_open_at_the_end_of_a_piece_is_not_yet_an_error()
    {
        var check = new Utf8Stream();

        check.Accept([0xE2, 0x82], endOfMessage: false).Should().BeTrue("the rest of € may come in the next frame");
        check.Accept([0xAC], endOfMessage: true).Should().BeTrue();
    }

    [Test]
    public void a_prefix_that_can_only_end_badly_is_refused_at_once()
    {
        var check = new Utf8Stream();

        check.Accept([0xF4, 0x90], endOfMessage: false).Should().BeFalse("no continuation can bring it back under U+10FFFF");
    }
}
