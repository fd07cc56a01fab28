using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace CameraRpc.Tests.Docs;

/// <summary>
/// The repository's README.md and the files it quotes, found from this source file's own path
/// (<see cref="CallerFilePathAttribute"/>), so the docs tests read the checked-out files, not copies.
/// </summary>
internal static partial class ReadmeDocument
{
    /// <summary>The folder holding CameraRpc.sln and README.md.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    private static readonly Lazy<string> s_text = new(() => File.ReadAllText(Path.Combine(RepositoryRoot, "README.md")));

    /// <summary>README.md with line endings normalised to <c>\n</c>.</summary>
    public static string Text => s_text.Value.ReplaceLineEndings("\n");

    /// <summary>A file of the repository, line endings normalised to <c>\n</c>.</summary>
    public static string ReadRepositoryFile(string relativePath) =>
        File.ReadAllText(Path.Combine(RepositoryRoot, relativePath)).ReplaceLineEndings("\n");

    /// <summary>
    /// The content of the first fenced code block after <c>&lt;!-- marker --&gt;</c>, without its fences,
    /// ending with a line feed; null when the marker or the block is missing.
    /// </summary>
    public static string? FencedBlockAfter(string marker)
    {
        string text = Text;
        int at = text.IndexOf("<!-- " + marker + " -->", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        Match block = FencedBlock().Match(text, at);
        return block.Success ? block.Groups["body"].Value : null;
    }

    /// <summary>The text of the README section that starts with the heading <paramref name="heading"/> (any level), up to the next heading of the same or a higher level.</summary>
    public static string Section(string heading)
    {
        string text = Text;
        Match start = Regex.Match(text, "^(?<level>#+) " + Regex.Escape(heading) + "[ \t]*$", RegexOptions.Multiline);
        if (!start.Success)
        {
            return string.Empty;
        }

        int level = start.Groups["level"].Length;
        Match next = Regex.Match(text[(start.Index + start.Length)..], "^#{1," + level + "} ", RegexOptions.Multiline);
        return next.Success ? text.Substring(start.Index, start.Length + next.Index) : text[start.Index..];
    }

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
}
