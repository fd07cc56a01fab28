using System.Text;
using System.Text.RegularExpressions;

namespace CameraRpc.Tests.Docs;

/// <summary>
/// The guides link to each other instead of repeating facts, so every relative link must lead somewhere on GitHub:
/// to a file or folder of the repository and, with a <c>#fragment</c>, to a heading of that Markdown file.
/// </summary>
[Parallelizable(ParallelScope.Self)]
public sealed partial class GuideLinksTests
{
    public static IEnumerable<TestCaseData> Links() =>
        GuideDocument.All.SelectMany(guide => RelativeLink().Matches(guide.Prose)
            .Select(match => match.Groups["target"].Value)
            .Distinct(StringComparer.Ordinal)
            .Select(target => new TestCaseData(guide.RelativePath, target).SetArgDisplayNames(guide.RelativePath, target)));

    [Test]
    public void the_guides_link_to_each_other_and_to_the_benchmarks()
    {
        var targets = Links().Select(c => Resolve((string)c.Arguments[0]!, (string)c.Arguments[1]!).Path).ToHashSet(StringComparer.Ordinal);

        targets.Should().Contain(
            ["CameraRpc.Server/README.md", "CameraRpc.Protocol/README.md", "CameraRpc.Tests/README.md", "BENCHMARKS.md"],
            "the front page says where to read on");
    }

    [TestCaseSource(nameof(Links))]
    public void every_relative_link_leads_to_a_file_and_heading_that_exist(string guidePath, string target)
    {
        (string path, string? fragment) = Resolve(guidePath, target);
        string fullPath = Path.Combine(GuideDocument.RepositoryRoot, path);

        (File.Exists(fullPath) || Directory.Exists(fullPath)).Should().BeTrue($"{guidePath} links to {target}, which must be {path} in the repository");
        if (fragment is null)
        {
            return;
        }

        path.Should().EndWith(".md", $"{guidePath} links to a heading of {path}, so it must be a Markdown file");
        Anchors(GuideDocument.ReadRepositoryFile(path)).Should().Contain(
            fragment, $"{guidePath} links to #{fragment}, so {path} must have a heading GitHub turns into that anchor");
    }

    [TestCase("Behind nginx: wss://", "behind-nginx-wss")]
    [TestCase("/healthz and /metrics", "healthz-and-metrics")]
    [TestCase("`probe` and `call` in a minute", "probe-and-call-in-a-minute")]
    [TestCase("404 for every request: the Host header", "404-for-every-request-the-host-header")]
    [TestCase("Probe shows ❌ for the response time", "probe-shows--for-the-response-time")]
    public void anchors_are_made_as_github_makes_them(string heading, string anchor) =>
        Slug(heading).Should().Be(anchor, "GitHub lower-cases a heading, drops punctuation and turns spaces into hyphens");

    /// <summary>The repository path a link of <paramref name="guidePath"/> points to, and its fragment (null for none).</summary>
    private static (string Path, string? Fragment) Resolve(string guidePath, string target)
    {
        int hash = target.IndexOf('#', StringComparison.Ordinal);
        string file = hash < 0 ? target : target[..hash];
        string? fragment = hash < 0 ? null : target[(hash + 1)..];
        string folder = Path.GetDirectoryName(guidePath) ?? string.Empty;
        string path = file.Length == 0
            ? guidePath
            : Path.GetRelativePath(GuideDocument.RepositoryRoot, Path.GetFullPath(Path.Combine(GuideDocument.RepositoryRoot, folder, file)));
        return (path.Replace('\\', '/'), fragment);
    }

    /// <summary>The anchors GitHub gives the headings of a Markdown file (a repeated heading gets -1, -2, ...).</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        bool inBlock = false;
        foreach (string line in markdown.Split('\n'))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                continue;
            }

            Match heading = inBlock ? Match.Empty : HeadingLine().Match(line);
            if (!heading.Success)
            {
                continue;
            }

            string slug = Slug(heading.Groups["text"].Value);
            string unique = slug;
            for (int n = 1; !anchors.Add(unique); n++)
            {
                unique = slug + "-" + n;
            }
        }

        return anchors;
    }

    /// <summary>GitHub's heading anchor: lower case; letters, digits, <c>-</c> and <c>_</c> kept; spaces to hyphens; the rest dropped.</summary>
    private static string Slug(string heading)
    {
        var slug = new StringBuilder(heading.Length);
        foreach (char c in heading.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    // [text](target) with a relative target: not http(s), not mailto.
    [GeneratedRegex(@"\]\((?!https?:|mailto:)(?<target>[^)\s]+)\)")]
    private static partial Regex RelativeLink();

    [GeneratedRegex("^#{1,6} (?<text>.+?)[ \t]*$")]
    private static partial Regex HeadingLine();
}
