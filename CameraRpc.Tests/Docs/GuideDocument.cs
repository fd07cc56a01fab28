using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;

namespace CameraRpc.Tests.Docs;

/// <summary>
/// One of the repository's four guides (the front page and one guide per audience), read from the checked-out
/// file. The repository is found from this source file's own path (<see cref="CallerFilePathAttribute"/>), so
/// the docs tests read the files a reader sees, not copies.
/// </summary>
internal sealed partial class GuideDocument
{
    private readonly Lazy<string> _text;
    private readonly Lazy<string> _prose;

    private GuideDocument(string relativePath)
    {
        RelativePath = relativePath;
        _text = new(() => ReadRepositoryFile(relativePath));
        _prose = new(() => MaskFencedBlocks(Text));
    }

    /// <summary>The folder holding CameraRpc.sln and README.md.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary><c>README.md</c>: what it is, the two commands, <c>probe</c>/<c>call</c>, the option table, where to read on.</summary>
    public static GuideDocument FrontPage { get; } = new("README.md");

    /// <summary><c>CameraRpc.Server/README.md</c>: configure, the tools, logging, metrics, shutdown, deployment, security.</summary>
    public static GuideDocument OperatorGuide { get; } = new("CameraRpc.Server/README.md");

    /// <summary><c>CameraRpc.Protocol/README.md</c>: the protocol as clients see it, methods, diagnostics, the camera example.</summary>
    public static GuideDocument MethodAuthorGuide { get; } = new("CameraRpc.Protocol/README.md");

    /// <summary><c>CameraRpc.Tests/README.md</c>: architecture and testing.</summary>
    public static GuideDocument MaintainerGuide { get; } = new("CameraRpc.Tests/README.md");

    /// <summary>The four guides, front page first.</summary>
    public static IReadOnlyList<GuideDocument> All { get; } = [FrontPage, OperatorGuide, MethodAuthorGuide, MaintainerGuide];

    /// <summary>The guide's path from the repository root, with forward slashes.</summary>
    public string RelativePath { get; }

    /// <summary>The folder of the guide, relative to the repository root ("" for the front page).</summary>
    public string Folder => Path.GetDirectoryName(RelativePath)?.Replace('\\', '/') ?? string.Empty;

    /// <summary>The guide's text with line endings normalised to <c>\n</c>.</summary>
    public string Text => _text.Value;

    /// <summary>
    /// <see cref="Text"/> with every line inside a fenced code block blanked (same length, same offsets), so that a
    /// <c># comment</c> in a shell block is not taken for a heading, nor <c>[a](b)</c> in code for a link.
    /// </summary>
    public string Prose => _prose.Value;

    /// <summary>A file of the repository, line endings normalised to <c>\n</c>.</summary>
    public static string ReadRepositoryFile(string relativePath) =>
        File.ReadAllText(Path.Combine(RepositoryRoot, relativePath)).ReplaceLineEndings("\n");

    /// <summary>
    /// The content of the first fenced code block after <c>&lt;!-- marker --&gt;</c>, without its fences,
    /// ending with a line feed; null when the marker or the block is missing.
    /// </summary>
    public string? FencedBlockAfter(string marker)
    {
        int at = Text.IndexOf(Marker(marker), StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        Match block = FencedBlock().Match(Text, at);
        return block.Success ? block.Groups["body"].Value : null;
    }

    /// <summary>The text from <c>&lt;!-- marker --&gt;</c> to the end of the guide; empty when the marker is missing.</summary>
    public string TextFrom(string marker)
    {
        int at = Text.IndexOf(Marker(marker), StringComparison.Ordinal);
        return at < 0 ? string.Empty : Text[at..];
    }

    /// <summary>Whether the guide holds <c>&lt;!-- marker --&gt;</c>.</summary>
    public bool HasMarker(string marker) => Text.Contains(Marker(marker), StringComparison.Ordinal);

    /// <summary>The text of the section that starts with the heading <paramref name="heading"/> (any level), up to the next heading of the same or a higher level; empty when there is none.</summary>
    public string Section(string heading)
    {
        Match start = Regex.Match(Prose, "^(?<level>#+) " + Regex.Escape(heading) + "[ \t]*$", RegexOptions.Multiline);
        if (!start.Success)
        {
            return string.Empty;
        }

        int level = start.Groups["level"].Length;
        int after = start.Index + start.Length;
        Match next = Regex.Match(Prose[after..], "^#{1," + level + "} ", RegexOptions.Multiline);
        return next.Success ? Text.Substring(start.Index, start.Length + next.Index) : Text[start.Index..];
    }

    /// <summary>Every heading's text, in order (outside code blocks).</summary>
    public IEnumerable<string> Headings() =>
        Heading().Matches(Prose).Select(match => match.Groups["text"].Value.Trim());

    /// <summary>The rows of the first Markdown table in <paramref name="text"/>, header and separator excluded, cells trimmed.</summary>
    public static IReadOnlyList<string[]> TableRows(string text)
    {
        var rows = new List<string[]>();
        bool inTable = false;
        foreach (string line in text.Split('\n'))
        {
            if (!line.StartsWith('|'))
            {
                if (inTable)
                {
                    break;
                }

                continue;
            }

            inTable = true;
            string[] cells = line.Trim().Trim('|').Split('|').Select(cell => cell.Trim()).ToArray();
            rows.Add(cells);
        }

        return rows.Count < 2 ? [] : rows.Skip(2).ToList();
    }

    /// <inheritdoc />
    public override string ToString() => RelativePath;

    private static string Marker(string marker) => "<!-- " + marker + " -->";

    private static string MaskFencedBlocks(string text)
    {
        var masked = new StringBuilder(text.Length);
        bool inBlock = false;
        foreach (string line in text.Split('\n'))
        {
            bool fence = line.StartsWith("```", StringComparison.Ordinal);
            masked.Append(inBlock || fence ? new string(' ', line.Length) : line).Append('\n');
            if (fence)
            {
                inBlock = !inBlock;
            }
        }

        return masked.ToString(0, text.Length);
    }

    private static string FindRoot([CallerFilePath] string sourceFile = "")
    {
        for (DirectoryInfo? folder = new FileInfo(sourceFile).Directory; folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "CameraRpc.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("CameraRpc.sln not found above " + sourceFile);
    }

    [GeneratedRegex("^```[a-z]*\\n(?<body>.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedBlock();

    [GeneratedRegex("^#{1,6} (?<text>.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
