using CameraRpc.Tests.TestSupport;
using FluentAssertions;
using Microsoft.CodeAnalysis;
using NUnit.Framework;

namespace CameraRpc.Tests.Generator;

/// <summary>Each CRPC id fires at the right place, and valid code gets none and compiles.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class GeneratorDiagnosticsTests
{
    private const string Usings = "using System; using System.Threading; using System.Threading.Tasks; using CameraRpc.Protocol;\n";

    private static IReadOnlyList<(string Id, int Line)> Diagnose(string source, string assemblyName = "Cameras")
    {
        (GeneratorRunResult result, _) = CompilationHelper.Run(CompilationHelper.CreateCompilation(assemblyName, Usings + source));
        return result.Diagnostics
            .Select(d => (d.Id, d.Location.GetLineSpan().StartLinePosition.Line + 1))
            .ToList();
    }

    [TestCase("""
        public class Camera
        {
            [RpcMethod("camera.zoom")]
            public int Zoom(int level) => level;
        }
        """, "CRPC001", 5, TestName = "an_instance_method_is_CRPC001_at_its_name")]
    [TestCase("""
        public static class Camera
        {
            [RpcMethod("camera.zoom")] public static int Zoom(int level) => level;
        }
        public static class Lens
        {
            [RpcMethod("camera.zoom")] public static int Focus(int level) => level;
        }
        """, "CRPC002", 8, TestName = "a_second_use_of_a_name_is_CRPC002_at_its_attribute")]
    [TestCase("""
        public static class Health
        {
            [RpcMethod("ping")] public static string Ping() => "pong";
        }
        """, "CRPC002", 4, TestName = "a_name_of_the_built_in_table_is_CRPC002_since_a_server_combines_the_two")]
    [TestCase("""
        public static class Camera
        {
            [RpcMethod("camera.zoom")]
            public static int Zoom(
                object level) => 0;
        }
        """, "CRPC003", 6, TestName = "an_unsupported_parameter_type_is_CRPC003_at_the_parameter")]
    [TestCase("""
        public static class Camera
        {
            [RpcMethod("camera.zoom")]
            public static int[][] Zoom(int level) => [];
        }
        """, "CRPC004", 5, TestName = "an_unsupported_return_type_is_CRPC004_at_the_return_type")]
    [TestCase("""
        public static class Camera
        {
            [RpcMethod("rpc.zoom")]
            public static int Zoom(int level) => level;
        }
        """, "CRPC005", 4, TestName = "a_reserved_rpc_prefix_is_CRPC005_at_the_name")]
    [TestCase("""
        public static class Camera
        {
            [RpcMethod("")]
            public static int Zoom(int level) => level;
        }
        """, "CRPC005", 4, TestName = "an_empty_name_is_CRPC005")]
    [TestCase("""
        public static class Camera
        {
            [RpcMethod("camera.zoom")]
            private static int Zoom(int level) => level;
        }
        """, "CRPC006", 5, TestName = "a_private_method_is_CRPC006")]
    [TestCase("""
        public static class Camera
        {
            [RpcMethod("camera.zoom")]
            public static T Zoom<T>(T level) => level;
        }
        """, "CRPC006", 5, TestName = "a_generic_method_is_CRPC006")]
    [TestCase("""
        public static class Outer
        {
            private static class Camera
            {
                [RpcMethod("camera.zoom")]
                public static int Zoom(int level) => level;
            }
        }
        """, "CRPC006", 7, TestName = "a_method_in_a_private_class_is_CRPC006")]
    [TestCase("""
        public static class Camera<T>
        {
            [RpcMethod("camera.zoom")]
            public static int Zoom(int level) => level;
        }
        """, "CRPC006", 5, TestName = "a_method_in_a_generic_class_is_CRPC006")]
    [TestCase("""
        public static class Camera
        {
            [RpcMethod("camera.zoom")]
            public static int Zoom(
                ref int level) => level;
        }
        """, "CRPC006", 6, TestName = "a_ref_parameter_is_CRPC006_at_the_parameter")]
    [TestCase("""
        public static class Camera
        {
            [RpcMethod("camera.zoom",
                Cost = 0)]
            public static int Zoom(int level) => level;
        }
        """, "CRPC020", 5, TestName = "a_cost_below_one_is_CRPC020_at_the_cost")]
    [TestCase("""
        public static class Camera
        {
            [RpcMethod("camera.zoom",
                Scope = " ")]
            public static int Zoom(int level) => level;
        }
        """, "CRPC020", 5, TestName = "an_empty_scope_is_CRPC020_at_the_scope")]
    public void reports(string source, string id, int line)
    {
        Diagnose(source).Should().Equal([(id, line)], "exactly one diagnostic, at the offending line");
    }

    [Test]
    public void the_protocol_assembly_may_use_the_rpc_prefix()
    {
        Diagnose("""
            public static class Discovery
            {
                [RpcMethod("rpc.discover")]
                public static int Discover() => 0;
            }
            """, assemblyName: "CameraRpc.Protocol").Should().BeEmpty();
    }

    [TestCase("Lens", "Settings", 13, TestName = "a_parameter_type_missing_from_the_json_context_is_CRPC007_at_the_parameter")]
    [TestCase("Settings", "Lens", 12, TestName = "a_result_type_missing_from_the_json_context_is_CRPC007_at_the_return_type")]
    public void a_type_missing_from_the_json_context(string parameterType, string resultType, int line)
    {
        // The context lists Settings (and reaches Focus through it), but not Lens: the server would fail at startup.
        string source = $$"""
            using System.Text.Json.Serialization;
            public sealed record Focus(double Distance);
            public sealed record Settings(string Name, Focus Focus);
            public sealed record Lens(string Model);
            [JsonSerializable(typeof(Settings))]
            internal sealed partial class Ctx : JsonSerializerContext { }
            [RpcJsonContext(typeof(Ctx))]
            public static class Camera
            {
                [RpcMethod("camera.set")]
                public static {{resultType}} Set(
                    {{parameterType}} value) => null!;
            }
            """;

        Diagnose(source).Should().Equal([("CRPC007", line)], "exactly one diagnostic, at the type the context lacks");
    }

    [Test]
    public void types_the_json_context_reaches_through_properties_elements_derived_types_and_interfaces_need_no_listing()
    {
        Diagnose("""
            using System.Collections.Generic;
            using System.Text.Json.Serialization;
            public sealed record Focus(double Distance);
            public sealed record Aperture(double F);
            public sealed record Shutter(double Seconds);
            public interface IExposed { Shutter Shutter { get; } }
            public interface IMetered : IExposed { }
            [JsonDerivedType(typeof(Zoom))]
            public class Lens { public Focus? Focus { get; set; } [JsonInclude] internal Aperture? Aperture { get; set; } }
            public sealed class Zoom : Lens { }
            public sealed record Settings(string Name, List<Lens> Lenses, Dictionary<string, Focus[]> Presets, IMetered Meter);
            [JsonSerializable(typeof(Settings))]
            internal sealed partial class Ctx : JsonSerializerContext { }
            [RpcJsonContext(typeof(Ctx))]
            public static class Camera
            {
                [RpcMethod("camera.focus")] public static Focus Focus(Lens lens, Zoom zoom, Focus[] presets, Aperture aperture, Shutter shutter) => presets[0];
            }
            """).Should().BeEmpty("every type is reachable from Settings, as System.Text.Json's generator walks it");
    }

    [Test]
    public void a_complex_type_is_supported_when_a_json_context_is_named()
    {
        string source = Usings + """
            using System.Text.Json.Serialization;
            namespace Cameras;
            public sealed record Settings(string Name, double Exposure);
            [JsonSerializable(typeof(Settings))]
            internal sealed partial class Ctx : JsonSerializerContext { }
            [RpcJsonContext(typeof(Ctx))]
            public static class Camera
            {
                [RpcMethod("camera.set")]
                public static Task<Settings?> Set(Settings settings, Settings?[]? more = null) => Task.FromResult<Settings?>(settings);
            }
            """;
        (GeneratorRunResult result, _) = CompilationHelper.Run(CompilationHelper.CreateCompilation("Cameras", source));
        result.Diagnostics.Should().BeEmpty();
        CompilationHelper.GeneratedSource(result).Should().Contain("global::Cameras.Ctx.Default.GetTypeInfo(typeof(global::Cameras.Settings))");
    }

    [Test]
    public void valid_methods_get_no_diagnostics_and_compile_without_errors()
    {
        string source = Usings + """
            using System.Text.Json;
            namespace My.Cameras;
            public enum Mode { Auto, Manual = 5, Negative = -1 }
            internal static class Camera
            {
                [RpcMethod("camera.all", Summary = "Every kind.")]
                public static async ValueTask<Mode?> All(
                    string s, bool b, byte u8, sbyte i8, short i16, ushort u16, int i32, uint u32, long i64, ulong u64,
                    float f, double d, decimal m, Mode e, JsonElement j, RpcRawJson raw, string?[] names, Mode?[]? modes,
                    int? maybe, RpcContext context, CancellationToken cancellationToken,
                    string opt = "a\"b\\c\n", Mode optMode = Mode.Negative, double optD = -1.5, decimal optM = 2.5m,
                    long optL = long.MinValue, float optF = float.NaN, uint optU = 7, int? optN = null, bool optB = true)
                {
                    await Task.Yield();
                    return e;
                }

                [RpcMethod("camera.void")] internal static void Void() { }
                [RpcMethod("camera.task")] public static Task Run(CancellationToken token) => Task.CompletedTask;
                [RpcMethod("camera.raw")] public static RpcRawJson Raw(RpcRawJson value) => value;
                [RpcMethod("camera.numbers")] public static ulong?[] Numbers(ulong?[] values) => values;
            }
            """;
        (GeneratorRunResult result, Compilation output) = CompilationHelper.Run(CompilationHelper.CreateCompilation("My-Cameras.2", source));
        result.Diagnostics.Should().BeEmpty();
        CompilationHelper.GeneratedSource(result).Should().Contain("namespace My_Cameras._2");
        output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Should().BeEmpty("the generated code compiles cleanly");
    }

    [Test]
    public void a_compilation_without_rpc_methods_gets_an_empty_table_it_can_name()
    {
        const string Source = """
            public static class Nothing
            {
                public static int Count => Empty.GeneratedRpcMethods.Table.Methods.Count;
            }
            """;
        (GeneratorRunResult result, Compilation output) = CompilationHelper.Run(CompilationHelper.CreateCompilation("Empty", Source));
        result.Diagnostics.Should().BeEmpty();
        CompilationHelper.GeneratedSource(result).Should().Contain("namespace Empty");
        output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Should().BeEmpty(
            "a project that references the engine can name its table before it has a method");
    }
}
