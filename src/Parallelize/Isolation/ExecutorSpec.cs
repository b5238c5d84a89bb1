using System.Buffers;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Parallelize.Isolation;

/// <summary>
/// What a worker process creates: an executor type with a parameterless constructor, or a static method (or a lambda
/// that captures nothing) called with an encoded argument. It crosses the protocol as JSON, read and written without
/// reflection.
/// </summary>
internal sealed record ExecutorSpec
{
    private const BindingFlags AnyMethod = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;

    /// <summary>The field in which the C# compiler keeps the one instance of the class holding non-capturing lambdas.</summary>
    private const string LambdaSingleton = "<>9";

    public required string InputType { get; init; }

    public required string OutputType { get; init; }

    public required string Codec { get; init; }

    public string? ExecutorType { get; init; }

    public string? MethodType { get; init; }

    public int MethodToken { get; init; }

    public string? MethodName { get; init; }

    public string? ArgumentType { get; init; }

    public byte[]? Argument { get; init; }

    /// <summary>Describes a factory for the worker, or explains why it cannot cross into another process.</summary>
    /// <exception cref="ArgumentException">The factory captures state, is generic, or is more than one method.</exception>
    public static (string Type, int Token, string Name) DescribeFactory(Delegate factory, string parameterName)
    {
        if (factory.HasSingleTarget is false)
        {
            throw new ArgumentException("The factory must be one method, not a multicast delegate.", parameterName);
        }

        MethodInfo method = factory.Method;
        if (method.IsGenericMethod)
        {
            throw new ArgumentException($"The factory {method.Name} is a generic method; worker processes create executors from non-generic static methods or non-capturing lambdas only.", parameterName);
        }

        Type declaring = method.DeclaringType
            ?? throw new ArgumentException("The factory has no declaring type (a dynamic method) and cannot be found in a worker process.", parameterName);
        if (factory.Target is null)
        {
            return (declaring.AssemblyQualifiedName!, method.MetadataToken, method.Name);
        }

        Type target = factory.Target.GetType();
        bool isLambdaSingleton =
            target == declaring
            && target.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false)
            && target.GetField(LambdaSingleton, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static) is { } singleton
            && ReferenceEquals(singleton.GetValue(null), factory.Target)
            && target.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).Length == 0;
        if (!isLambdaSingleton)
        {
            throw new ArgumentException(
                $"The factory captures state ({target.Name}): an isolated executor is created in another process, where captured variables do not exist. " +
                "Use a static method or a lambda that captures nothing (mark it static), and pass what it needs as the factory's argument.",
                parameterName);
        }

        return (target.AssemblyQualifiedName!, method.MetadataToken, method.Name);
    }

    /// <summary>Creates the executor this spec describes (in the worker process).</summary>
    public object Create(WireCodecProvider codec)
    {
        if (ExecutorType is not null)
        {
            Type type = Type.GetType(ExecutorType, throwOnError: true)!;
            return Activator.CreateInstance(type)
                ?? throw new InvalidOperationException($"Creating {type.FullName} returned null.");
        }

        Type declaring = Type.GetType(MethodType!, throwOnError: true)!;
        MethodInfo method = declaring.GetMethods(AnyMethod).FirstOrDefault(m => m.MetadataToken == MethodToken && m.Name == MethodName)
            ?? throw new MissingMethodException(declaring.FullName, MethodName);
        object? target = method.IsStatic
            ? null
            : declaring.GetField(LambdaSingleton, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null);
        object?[] arguments = [];
        if (ArgumentType is not null)
        {
            Type argumentType = Type.GetType(ArgumentType, throwOnError: true)!;
            MethodInfo decode = typeof(ExecutorSpec).GetMethod(nameof(DecodeArgument), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(argumentType);
            arguments = [decode.Invoke(null, [codec, Argument ?? []])];
        }

        try
        {
            return method.Invoke(target, arguments)
                ?? throw new InvalidOperationException($"The factory {declaring.Name}.{MethodName} returned null.");
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }

    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("in", InputType);
            json.WriteString("out", OutputType);
            json.WriteString("codec", Codec);
            Optional(json, "type", ExecutorType);
            Optional(json, "methodType", MethodType);
            json.WriteNumber("token", MethodToken);
            Optional(json, "method", MethodName);
            Optional(json, "argType", ArgumentType);
            if (Argument is not null)
            {
                json.WriteBase64String("arg", Argument);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static ExecutorSpec FromJson(ReadOnlySpan<byte> data)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        int token = 0;
        byte[]? argument = null;
        var json = new Utf8JsonReader(data);
        json.Read();
        while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
        {
            string name = json.GetString()!;
            json.Read();
            switch (name)
            {
                case "token":
                    token = json.GetInt32();
                    break;
                case "arg":
                    argument = json.GetBytesFromBase64();
                    break;
                default:
                    values[name] = json.GetString()!;
                    break;
            }
        }

        return new ExecutorSpec
        {
            InputType = values["in"],
            OutputType = values["out"],
            Codec = values["codec"],
            ExecutorType = values.GetValueOrDefault("type"),
            MethodType = values.GetValueOrDefault("methodType"),
            MethodToken = token,
            MethodName = values.GetValueOrDefault("method"),
            ArgumentType = values.GetValueOrDefault("argType"),
            Argument = argument,
        };
    }

    private static object? DecodeArgument<T>(WireCodecProvider codec, byte[] data) => codec.GetCodec<T>().Decode(data);

    private static void Optional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }
}
