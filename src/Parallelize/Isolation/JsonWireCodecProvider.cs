using System.Buffers;
using System.Text.Json;

namespace Parallelize.Isolation;

/// <summary>
/// The default codec provider: System.Text.Json with reflection, public fields included, in UTF-8. It needs no
/// package, and encodes records, classes with public properties or fields, collections and primitives.
/// </summary>
/// <remarks>
/// For trimmed or native AOT applications, or for speed, use <see cref="JsonWireCodecProvider{TContext}"/> with a
/// source-generated context, or a provider of your own.
/// </remarks>
public sealed class JsonWireCodecProvider : WireCodecProvider
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General) { IncludeFields = true };

    /// <inheritdoc/>
    public override IWireCodec<T> GetCodec<T>() => Codec<T>.Instance;

    private sealed class Codec<T> : IWireCodec<T>
    {
        public static readonly Codec<T> Instance = new();

        public void Encode(T value, IBufferWriter<byte> output)
        {
            using var writer = new Utf8JsonWriter(output);
            JsonSerializer.Serialize(writer, value, Options);
        }

        public T Decode(ReadOnlySpan<byte> data) => JsonSerializer.Deserialize<T>(data, Options)!;
    }
}
