using System.Globalization;
using System.Text;

namespace CameraRpc.Protocol.Generator;

public sealed partial class RpcMethodGenerator
{
    /// <summary>
    /// Describes each method as an OpenRPC 1.x Method Object (spec.open-rpc.org, "Method Object"),
    /// computed at compile time so <c>rpc.discover</c> only concatenates strings at run time.
    /// </summary>
    internal static partial class OpenRpc
    {
        public static string Describe(RpcMethodSpec method)
        {
            var json = new StringBuilder();
            json.Append("{\"name\":");
            AppendString(json, method.RpcName);
            if (method.Summary is not null)
            {
                json.Append(",\"summary\":");
                AppendString(json, method.Summary);
            }

            json.Append(",\"params\":[");
            bool first = true;
            foreach (RpcParameterSpec parameter in method.Parameters)
            {
                if (!parameter.IsClientVisible)
                {
                    continue;
                }

                if (!first)
                {
                    json.Append(',');
                }

                first = false;
                json.Append("{\"name\":");
                AppendString(json, parameter.Name);
                json.Append(",\"required\":").Append(parameter.IsOptional ? "false" : "true");
                json.Append(",\"schema\":");
                AppendSchema(json, parameter.Type);
                json.Append('}');
            }

            json.Append("],\"result\":{\"name\":\"result\",\"schema\":");
            if (method.Result is null)
            {
                json.Append("{\"type\":\"null\"}");
            }
            else
            {
                AppendSchema(json, method.Result);
            }

            json.Append('}');
            if (method.Scope is not null)
            {
                json.Append(",\"x-scope\":");
                AppendString(json, method.Scope);
            }

            json.Append('}');
            return json.ToString();
        }

        private static void AppendSchema(StringBuilder json, RpcTypeSpec type)
        {
            string? jsonType = type.Kind switch
            {
                RpcValueKind.String or RpcValueKind.Enum => "string",
                RpcValueKind.Boolean => "boolean",
                RpcValueKind.Byte or RpcValueKind.SByte or RpcValueKind.Int16 or RpcValueKind.UInt16
                    or RpcValueKind.Int32 or RpcValueKind.UInt32 or RpcValueKind.Int64 or RpcValueKind.UInt64 => "integer",
                RpcValueKind.Single or RpcValueKind.Double or RpcValueKind.Decimal => "number",
                RpcValueKind.Array => "array",
                _ => null, // JsonElement, RpcRawJson and serializer types: any JSON value as far as the schema says
            };

            if (jsonType is null)
            {
                json.Append("{}");
                return;
            }

            json.Append("{\"type\":");
            if (type.IsNullable)
            {
                json.Append("[\"").Append(jsonType).Append("\",\"null\"]");
            }
            else
            {
                json.Append('"').Append(jsonType).Append('"');
            }

            if (type.Kind == RpcValueKind.Enum)
            {
                json.Append(",\"enum\":[");
                for (int i = 0; i < type.EnumMembers.Count; i++)
                {
                    if (i > 0)
                    {
                        json.Append(',');
                    }

                    AppendString(json, type.EnumMembers[i]);
                }

                // JSON Schema checks "enum" on its own, so a nullable enum must list null as well.
                json.Append(type.IsNullable ? ",null]" : "]");
            }
            else if (type.Kind == RpcValueKind.Array)
            {
                json.Append(",\"items\":");
                AppendSchema(json, type.Element!);
            }

            json.Append('}');
        }

        /// <summary>A JSON string literal; escapes what RFC 8259 requires and nothing else.</summary>
        internal static void AppendString(StringBuilder json, string value)
        {
            json.Append('"');
            foreach (char c in value)
            {
                switch (c)
                {
                    case '"':
                        json.Append("\\\"");
                        break;
                    case '\\':
                        json.Append("\\\\");
                        break;
                    case '\n':
                        json.Append("\\n");
                        break;
                    case '\r':
                        json.Append("\\r");
                        break;
                    case '\t':
                        json.Append("\\t");
                        break;
                    default:
                        if (c < 0x20)
                        {
                            json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            json.Append(c);
                        }

                        break;
                }
            }

            json.Append('"');
        }
    }
}
