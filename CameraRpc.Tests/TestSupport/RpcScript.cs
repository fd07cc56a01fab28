namespace CameraRpc.Tests.TestSupport;

/// <summary>
/// A conformance script in go-ethereum's <c>--&gt;</c> / <c>&lt;--</c> format: each <c>--&gt;</c> line is
/// one message sent, the <c>&lt;--</c> line after it the exact answer; a message with no <c>&lt;--</c>
/// must get no answer. Lines starting with <c>//</c> are comments.
/// </summary>
public sealed record RpcScript(string Name, IReadOnlyList<RpcScriptStep> Steps)
{
    public static string Folder => Path.Combine(TestContext.CurrentContext.TestDirectory, "Conformance", "Scripts");

    public static IEnumerable<RpcScript> LoadAll()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "Conformance", "Scripts");
        foreach (string file in Directory.GetFiles(folder, "*.rpc").Order(StringComparer.Ordinal))
        {
            yield return Parse(Path.GetFileNameWithoutExtension(file), File.ReadAllLines(file));
        }
    }

    public static RpcScript Parse(string name, IEnumerable<string> lines)
    {
        var steps = new List<RpcScriptStep>();
        int number = 0;
        foreach (string line in lines)
        {
            number++;
            if (line.StartsWith("--> ", StringComparison.Ordinal))
            {
                steps.Add(new RpcScriptStep(number, line[4..], null));
            }
            else if (line.StartsWith("<-- ", StringComparison.Ordinal))
            {
                if (steps.Count == 0 || steps[^1].Expected is not null)
                {
                    throw new FormatException($"{name}.rpc:{number}: an answer without a message before it");
                }

                steps[^1] = steps[^1] with { Expected = line[4..] };
            }
            else if (line.Length > 0 && !line.StartsWith("//", StringComparison.Ordinal))
            {
                throw new FormatException($"{name}.rpc:{number}: a line that is neither -->, <-- nor a // comment");
            }
        }

        return new RpcScript(name, steps);
    }

    public override string ToString() => Name;
}

/// <summary>One message of a script and its expected answer (null: no answer).</summary>
public sealed record RpcScriptStep(int Line, string Request, string? Expected);
