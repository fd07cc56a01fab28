using System.Text;
using CameraRpc.Protocol;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Generator;

/// <summary>
/// Compile-and-run layer: the fixtures in TestMethods/ were compiled by the real generator, and these
/// tests call the generated table through a real <see cref="RpcDispatcher"/>.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class GeneratedTableTests
{
    private static async Task<string> CallAsync(string request, CancellationToken cancellationToken = default)
    {
        var dispatcher = new RpcDispatcher(GeneratedRpcMethods.Table);
        var context = new RpcContext(dispatcher, 1, null, null);
        RpcResponseBuffer buffer = RpcResponseBuffer.Rent();
        try
        {
            await dispatcher.DispatchAsync(Encoding.UTF8.GetBytes(request), buffer, context, cancellationToken);
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        finally
        {
            RpcResponseBuffer.Return(buffer);
        }
    }

    private static string Result(string json) => "{\"jsonrpc\":\"2.0\",\"result\":" + json + ",\"id\":1}";

    private static string InvalidParams(string param, string reason) =>
        "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32602,\"message\":\"Invalid params\",\"data\":{\"param\":\"" + param + "\",\"reason\":\"" + reason + "\"}},\"id\":1}";

    private static string Call(string method, string? @params) =>
        "{\"jsonrpc\":\"2.0\",\"method\":\"" + method + "\"" + (@params is null ? string.Empty : ",\"params\":" + @params) + ",\"id\":1}";

    [TestCase("[2,3]", TestName = "binds_parameters_by_position")]
    [TestCase("{\"a\":2,\"b\":3}", TestName = "binds_parameters_by_name")]
    [TestCase("{\"b\":3,\"a\":2}", TestName = "binds_parameters_by_name_in_any_order")]
    public async Task binds_add(string @params)
    {
        (await CallAsync(Call("test.add", @params))).Should().Be(Result("5"));
    }

    [Test]
    public async Task optional_parameters_take_their_csharp_defaults()
    {
        (await CallAsync(Call("test.greet", "[\"Ada\"]"))).Should().Be(Result("\"Hello \\\"friend\\\", Ada!\""), "the default string keeps its escaped quotes");
        (await CallAsync(Call("test.greet", "{\"name\":\"Ada\",\"times\":2,\"greeting\":\"Hi\"}"))).Should().Be(Result("\"Hi, Ada! Hi, Ada!\""));
        (await CallAsync(Call("test.greet", "{\"name\":\"Ada\",\"times\":2}"))).Should().Be(Result("\"Hello \\\"friend\\\", Ada! Hello \\\"friend\\\", Ada!\""));
    }

    [TestCase("test.add", "[1]", "b", TestName = "a_missing_positional_parameter_is_named")]
    [TestCase("test.add", "{\"b\":1}", "a", TestName = "a_missing_named_parameter_is_named")]
    [TestCase("test.add", null, "a", TestName = "absent_params_report_the_first_required_parameter")]
    [TestCase("test.add", "{}", "a", TestName = "empty_object_params_report_the_first_required_parameter")]
    [TestCase("test.greet", "[]", "name", TestName = "empty_array_params_report_the_first_required_parameter")]
    public async Task missing(string method, string? @params, string param)
    {
        (await CallAsync(Call(method, @params))).Should().Be(InvalidParams(param, "missing"));
    }

    [TestCase("test.add", "[1,2,3]", "[2]", TestName = "an_extra_positional_parameter_is_unexpected")]
    [TestCase("test.add", "{\"a\":1,\"b\":2,\"c\":3}", "c", TestName = "an_unknown_named_parameter_is_unexpected")]
    [TestCase("test.add", "{\"a\":1,\"a\":2}", "a", TestName = "a_name_given_twice_is_unexpected")]
    [TestCase("test.void", "[1]", "[0]", TestName = "a_method_without_parameters_refuses_any")]
    [TestCase("test.add", "{\"a\":1,\"b\":2,\"\\ud800\":3}", "\\\\ud800", TestName = "an_unknown_name_that_is_not_unicode_is_quoted_as_written")]
    public async Task unexpected(string method, string @params, string param)
    {
        (await CallAsync(Call(method, @params))).Should().Be(InvalidParams(param, "unexpected"));
    }

    [TestCase("test.add", "[\"1\",2]", "a", TestName = "a_string_for_an_int_is_a_type_error")]
    [TestCase("test.add", "[1.5,2]", "a", TestName = "a_fraction_for_an_int_is_a_type_error")]
    [TestCase("test.add", "[1,2147483648]", "b", TestName = "an_int_overflow_is_a_type_error")]
    [TestCase("test.greet", "[null]", "name", TestName = "null_for_a_non_nullable_string_is_a_type_error")]
    [TestCase("test.enum", "[\"Bogus\"]", "mode", TestName = "an_unknown_enum_member_is_a_type_error")]
    [TestCase("test.enum", "[1]", "mode", TestName = "an_enum_given_as_a_number_is_a_type_error")]
    [TestCase("test.array", "[[1,\"x\"]]", "values", TestName = "a_bad_array_element_is_a_type_error")]
    [TestCase("test.array", "[null]", "values", TestName = "null_for_a_non_nullable_array_is_a_type_error")]
    [TestCase("test.complex", "[null]", "settings", TestName = "null_for_a_non_nullable_complex_type_is_a_type_error")]
    [TestCase("test.complex", "[{\"name\":\"a\",\"exposure\":\"x\",\"mode\":\"Auto\"}]", "settings", TestName = "a_complex_value_that_does_not_deserialize_is_a_type_error")]
    [TestCase("test.numbers", "[256,0,0,0,0,0,0,0,0]", "b", TestName = "a_byte_overflow_is_a_type_error")]
    [TestCase("test.numbers", "[0,0,0,-1,0,0,0,0,0]", "us", TestName = "a_negative_unsigned_is_a_type_error")]
    [TestCase("test.add", "{\"a\":1,\"b\":\"2\"}", "b", TestName = "a_string_for_an_int_given_by_name_is_a_type_error")]
    [TestCase("test.enum", "{\"mode\":\"Auto\",\"fallback\":true}", "fallback", TestName = "a_mistyped_optional_parameter_given_by_name_is_a_type_error")]
    [TestCase("test.greet", "[\"\\ud800\"]", "name", TestName = "a_string_with_an_unpaired_surrogate_escape_is_a_type_error")]
    [TestCase("test.greet", "{\"name\":\"\\udc00x\"}", "name", TestName = "an_unpaired_surrogate_escape_given_by_name_is_a_type_error")]
    [TestCase("test.enum", "[\"\\ud800\"]", "mode", TestName = "an_enum_name_with_an_unpaired_surrogate_escape_is_a_type_error")]
    public async Task type_errors(string method, string @params, string param)
    {
        (await CallAsync(Call(method, @params))).Should().Be(InvalidParams(param, "type"));
    }

    [Test]
    public async Task an_async_method_is_awaited_and_its_result_written()
    {
        (await CallAsync(Call("test.delay", "[20]"))).Should().Be(Result("20"));
        (await CallAsync(Call("test.delay", "{\"milliseconds\":0}"))).Should().Be(Result("0"), "a task completed synchronously takes the synchronous path");
        (await CallAsync(Call("test.delayValue", "[10]"))).Should().Be(Result("null"));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task the_server_cancellation_token_reaches_the_method(CancellationToken testToken)
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        (await CallAsync(Call("test.delay", "[60000]"), cancelled.Token)).Should()
            .Be("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32603,\"message\":\"Internal error\"},\"id\":1}", "Task.Delay saw the cancelled token at once");
        (await CallAsync(Call("test.context", "[]"), testToken)).Should().Be(Result("1"), "the RpcContext is supplied by the server");
    }

    [Test]
    public async Task a_thrown_rpc_exception_reaches_the_client()
    {
        (await CallAsync(Call("test.fail", "[\"lens\"]"))).Should()
            .Be("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32050,\"message\":\"Camera failed: lens\"},\"id\":1}");
    }

    [Test]
    public async Task enums_are_bound_and_written_by_member_name()
    {
        (await CallAsync(Call("test.enum", "[\"auto\"]"))).Should().Be(Result("\"Manual\""), "member names bind case-insensitively");
        (await CallAsync(Call("test.enum", "[\"Shutter\"]"))).Should().Be(Result("\"Manual\""), "the enum default is used");
        (await CallAsync(Call("test.enum", "[\"Shutter\",null]"))).Should().Be(Result("\"Auto\""));
        (await CallAsync(Call("test.enum", "{\"mode\":\"Shutter\",\"fallback\":\"Shutter\"}"))).Should().Be(Result("\"Shutter\""));
    }

    [Test]
    public async Task arrays_are_bound_and_written()
    {
        (await CallAsync(Call("test.array", "[[1,2,3]]"))).Should().Be(Result("[2,4,6]"));
        (await CallAsync(Call("test.array", "[[1,2],[3,0.5],[\"a\",null,\"b\"]]"))).Should().Be(Result("[3,1,3]"));
        (await CallAsync(Call("test.array", "{\"values\":[],\"factors\":null}"))).Should().Be(Result("[]"));
    }

    [Test]
    public async Task nullable_parameters_accept_null_and_values()
    {
        (await CallAsync(Call("test.nullable", "[null,null]"))).Should().Be(Result("[null,null,null]"));
        (await CallAsync(Call("test.nullable", "[4,\"abc\",true]"))).Should().Be(Result("[4,3,1]"));
        (await CallAsync(Call("test.nullable", "{\"label\":\"x\",\"count\":null,\"flag\":false}"))).Should().Be(Result("[null,1,0]"));
        (await CallAsync(Call("test.nullable", "[null]"))).Should().Be(InvalidParams("label", "missing"), "nullable is not optional");
    }

    [Test]
    public async Task every_number_type_binds()
    {
        (await CallAsync(Call("test.numbers", "[1,-2,3,4,5,6,7,0.5,0.25]"))).Should().Be(Result("24.75"));
    }

    [Test]
    public async Task complex_types_go_through_the_serializer_context()
    {
        (await CallAsync(Call("test.complex", "{\"settings\":{\"name\":\"cam\",\"exposure\":1.5,\"mode\":\"Manual\"}}"))).Should()
            .Be(Result("{\"name\":\"cam\",\"exposure\":3,\"mode\":\"Manual\"}"));
        (await CallAsync(Call("test.complexMany", "[[{\"name\":\"a\",\"exposure\":1,\"mode\":\"Auto\"},null]]"))).Should()
            .Be(Result("[{\"name\":\"a\",\"exposure\":1,\"mode\":\"Auto\"},{\"name\":\"default\",\"exposure\":1,\"mode\":\"Auto\"}]"));
    }

    [Test]
    public async Task json_element_takes_any_value()
    {
        (await CallAsync(Call("test.element", "[{\"deep\":[1,{}]}]"))).Should().Be(Result("\"Object\""));
        (await CallAsync(Call("test.element", "[null]"))).Should().Be(Result("\"Null\""));
    }

    [Test]
    public async Task a_void_method_answers_null()
    {
        (await CallAsync(Call("test.void", null))).Should().Be(Result("null"));
        (await CallAsync(Call("test.void", "{}"))).Should().Be(Result("null"));
    }

    [Test]
    public void the_table_lists_every_fixture_with_its_openrpc_descriptor()
    {
        // Ordinal order: the hardening fixtures (Hardening/Methods) sort first.
        GeneratedRpcMethods.Table.Methods.Where(m => m.Name.StartsWith("test.", StringComparison.Ordinal)).Select(m => m.Name).Should().Equal(
            "test.add", "test.array", "test.complex", "test.complexMany", "test.context", "test.delay", "test.delayValue",
            "test.element", "test.enum", "test.fail", "test.greet", "test.notify", "test.nullable", "test.numbers", "test.void",
            "test.wait", "test.waitThenCleanUp");
        Encoding.UTF8.GetString(GeneratedRpcMethods.Table.Methods.First(m => m.Name == "test.add").OpenRpcDescriptor.Span).Should().Be(
            "{\"name\":\"test.add\",\"summary\":\"Adds two integers.\",\"params\":[{\"name\":\"a\",\"required\":true,\"schema\":{\"type\":\"integer\"}},"
            + "{\"name\":\"b\",\"required\":true,\"schema\":{\"type\":\"integer\"}}],\"result\":{\"name\":\"result\",\"schema\":{\"type\":\"integer\"}}}");
    }

    [TestCase("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1}", TestName = "ping_answers_pong_without_params")]
    [TestCase("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":[],\"id\":1}", TestName = "ping_answers_pong_with_empty_array")]
    [TestCase("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{},\"id\":1}", TestName = "ping_answers_pong_with_empty_object")]
    public async Task builtin_ping(string request)
    {
        var dispatcher = new RpcDispatcher(BuiltInRpcMethods.Table);
        var buffer = new RpcResponseBuffer();
        await dispatcher.DispatchAsync(Encoding.UTF8.GetBytes(request), buffer, new RpcContext(dispatcher, 1, null, null));
        Encoding.UTF8.GetString(buffer.WrittenSpan).Should().Be(Result("\"pong\""));
    }

    [Test]
    public async Task builtin_echo_and_discover_work_on_a_combined_table()
    {
        var dispatcher = new RpcDispatcher(RpcMethodTable.Combine(BuiltInRpcMethods.Table, GeneratedRpcMethods.Table));
        var context = new RpcContext(dispatcher, 1, null, null);
        var buffer = new RpcResponseBuffer();
        await dispatcher.DispatchAsync(Encoding.UTF8.GetBytes(Call("echo", "{\"message\":{\"a\": [1, 2.50]}}")), buffer, context);
        Encoding.UTF8.GetString(buffer.WrittenSpan).Should().Be(Result("{\"a\": [1, 2.50]}"), "echo returns the value byte for byte");

        buffer.Clear();
        await dispatcher.DispatchAsync(Encoding.UTF8.GetBytes(Call("rpc.discover", null)), buffer, context);
        string discover = Encoding.UTF8.GetString(buffer.WrittenSpan);
        discover.Should().StartWith("{\"jsonrpc\":\"2.0\",\"result\":{\"openrpc\":\"1.3.2\"");
        discover.Should().Contain("{\"name\":\"test.void\"").And.Contain("{\"name\":\"ping\",\"summary\":\"Health check: answers \\\"pong\\\".\"");
    }
}
