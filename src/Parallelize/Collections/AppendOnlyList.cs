using System.Collections;
using System.Diagnostics;
using System.Numerics;

namespace Parallelize.Collections;

/// <summary>
/// A list that one writer appends to while any number of readers read it, without locks.
/// </summary>
/// <remarks>
/// <para><b>One writer.</b> Only one thread at a time writes (the pool's result sink, under its lock); that is the
/// invariant that makes the rest safe, and it is why readers need no lock.</para>
/// <para><b>Publication.</b> Items live in chunks of 32, 64, 128, … that are never moved once allocated. The writer
/// stores items (allocating their chunk first if needed) and only then publishes the new count with a volatile
/// write, once per batch; a reader reads the count with a volatile read, so every index below the count it saw refers to a stored
/// item in a chunk it can see. Readers never block the writer and never see a torn or missing item.</para>
/// </remarks>
internal sealed class AppendOnlyList<T> : IReadOnlyList<T>
{
    private const int FirstChunkBits = 5;
    private const int FirstChunkSize = 1 << FirstChunkBits;

    // Chunk k holds FirstChunkSize << k items; 26 chunks hold MaxCount items, nearly int.MaxValue.
    private const int ChunkCount = 26;
    private const int MaxCount = (int)(((long)FirstChunkSize << ChunkCount) - FirstChunkSize);

    private readonly T[]?[] _chunks = new T[]?[ChunkCount];
    private int _count;
    private int _written;

    /// <inheritdoc/>
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc/>
    public T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Volatile.Read(ref _count))
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, "The index must be at least 0 and less than Count.");
            }

            (int chunk, int offset) = Locate(index);
            return _chunks[chunk]![offset];
        }
    }

    /// <summary>Appends an item and publishes it. Only one writer at a time may call this.</summary>
    /// <param name="item">The item.</param>
    public void Add(T item)
    {
        AddUnpublished(item);
        Publish();
    }

    /// <summary>Stores an item after the others without making it visible yet; <see cref="Publish"/> does. Only one writer at a time may call this.</summary>
    /// <param name="item">The item.</param>
    public void AddUnpublished(T item)
    {
        int index = _written;
        if (index == MaxCount)
        {
            throw new InvalidOperationException($"The list is full: it holds {MaxCount} items.");
        }

        (int chunk, int offset) = Locate(index);
        T[] array = _chunks[chunk] ??= new T[FirstChunkSize << chunk];
        array[offset] = item;
        _written = index + 1;
    }

    /// <summary>Makes every item stored so far visible to readers, with one volatile write.</summary>
    public void Publish() => Volatile.Write(ref _count, _written);

    /// <summary>Enumerates the items present when enumeration starts.</summary>
    /// <returns>The enumerator.</returns>
    public IEnumerator<T> GetEnumerator()
    {
        int count = Volatile.Read(ref _count);
        for (int i = 0; i < count; i++)
        {
            (int chunk, int offset) = Locate(i);
            yield return _chunks[chunk]![offset];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static (int Chunk, int Offset) Locate(int index)
    {
        uint shifted = (uint)index + FirstChunkSize;
        int chunk = BitOperations.Log2(shifted) - FirstChunkBits;
        int offset = (int)(shifted - ((uint)FirstChunkSize << chunk));
        Debug.Assert(chunk is >= 0 and < ChunkCount, "Chunk index out of range.");
        return (chunk, offset);
    }
}
