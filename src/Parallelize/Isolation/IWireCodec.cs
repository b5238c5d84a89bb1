using System.Buffers;

namespace Parallelize.Isolation;

/// <summary>
/// Turns values into bytes and back, so that inputs and results can cross into a worker process and out again.
/// </summary>
/// <typeparam name="T">The type of the values.</typeparam>
/// <remarks>
/// A codec is used from several threads at once and must keep no state between calls. The worker process creates its
/// own codecs from the same <see cref="WireCodecProvider"/> type, so both sides must read what the other writes.
/// </remarks>
public interface IWireCodec<T>
{
    /// <summary>Writes <paramref name="value"/> to <paramref name="output"/>.</summary>
    /// <param name="value">The value.</param>
    /// <param name="output">Where the bytes go.</param>
    void Encode(T value, IBufferWriter<byte> output);

    /// <summary>Reads a value that <see cref="Encode"/> wrote.</summary>
    /// <param name="data">The bytes, exactly those written for one value.</param>
    /// <returns>The value.</returns>
    T Decode(ReadOnlySpan<byte> data);
}
