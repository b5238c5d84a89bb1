using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Parallelize.Isolation;

/// <summary>
/// A codec provider that uses a source-generated System.Text.Json context, so no reflection is needed: fit for trimmed
/// and native AOT applications. Every type that crosses (inputs, results, factory arguments) must be in the context
/// (<c>[JsonSerializable(typeof(MyInput))]</c>).
/// </summary>
/// <typeparam name="TContext">The generated context; the worker process creates its own with the parameterless constructor.</typeparam>
public sealed class JsonWireCodecProvider<TContext> : WireCodecProvider
    where TContext : JsonSerializerContext, new()
{
    private readonly TContext _context = new();

    /// <inheritdoc/>
    /// <exception cref="NotSupportedException">The context has no metadata for <typeparamref name="T"/>.</exception>
    public override IWireCodec<T> GetCodec<T>() =>
        _context.GetTypeInfo(typeof(T)) is JsonTypeInfo<T> info
            ? new Codec<T>(info)
            : throw new NotSupportedException($"The JSON context {typeof(TContext).FullName} has no metadata for {typeof(T).FullName}: add [JsonSerializable(typeof({typeof(T).Name}))] to it.");

    private sealed class Codec<T>(JsonTypeInfo<T> info) : IWireCodec<T>
    {
        public void Encode(T value, IBufferWriter<byte> output)
        {
            using var writer = new Utf8JsonWriter(output);
            JsonSerializer.Serialize(writer, value, info);
        }

        public T Decode(ReadOnlySpan<byte> data) => JsonSerializer.Deserialize(data, info)!;
    }
}
