namespace Parallelize.Isolation;

/// <summary>
/// Chooses the <see cref="IWireCodec{T}"/> for each type that crosses into a worker process: inputs, results and
/// factory arguments.
/// </summary>
/// <remarks>
/// The worker process creates its own provider of the same type, so a provider must be a public, non-abstract class
/// with a public parameterless constructor, and must behave the same in both processes.
/// <see cref="JsonWireCodecProvider"/> (System.Text.Json, reflection) is the default;
/// <see cref="JsonWireCodecProvider{TContext}"/> uses a source-generated <c>JsonSerializerContext</c>, for trimmed
/// and native AOT applications.
/// </remarks>
public abstract class WireCodecProvider
{
    /// <summary>Gets the codec for <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The type of the values.</typeparam>
    /// <returns>The codec. It may be cached and shared; it must be thread-safe.</returns>
    /// <exception cref="NotSupportedException">The provider cannot encode <typeparamref name="T"/>.</exception>
    public abstract IWireCodec<T> GetCodec<T>();
}
