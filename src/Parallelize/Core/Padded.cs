using System.Runtime.InteropServices;

namespace Parallelize.Core;

/// <summary>
/// An <see langword="int"/> alone on its cache line (64 bytes of padding on each side, for adjacent-line prefetch):
/// for a field that one thread writes often while others read or write the fields next to it. Without it, a worker
/// checking a flag next to the count the producer writes on every call pays a cache miss per check, and so does the
/// producer.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct PaddedInt32
{
    /// <summary>The value; use <see cref="Volatile"/> or <see cref="Interlocked"/> on it as its owner documents.</summary>
    [FieldOffset(64)]
    public int Value;
}

/// <summary>A <see langword="long"/> alone on its cache line; see <see cref="PaddedInt32"/>.</summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct PaddedInt64
{
    /// <summary>The value; use <see cref="Volatile"/> or <see cref="Interlocked"/> on it as its owner documents.</summary>
    [FieldOffset(64)]
    public long Value;
}
