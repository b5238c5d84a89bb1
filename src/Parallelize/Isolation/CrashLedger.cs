using System.Collections.Concurrent;

namespace Parallelize.Isolation;

/// <summary>
/// Counts, per input (by its encoded bytes), how many times it crashed a worker, for
/// <see cref="IsolationOptions.MaxCrashesPerInput"/>. Shared by the executors of one <see cref="Isolated"/> set; only
/// inputs that crashed are kept, and an input that later succeeds is forgotten.
/// </summary>
internal sealed class CrashLedger
{
    private readonly ConcurrentDictionary<byte[], (int Count, WorkerCrashedException Last)> _crashes = new(BytesComparer.Instance);
    private int _entries;

    /// <summary>Gets a value indicating whether no input has crashed (checked before anything is looked up).</summary>
    public bool IsEmpty => Volatile.Read(ref _entries) == 0;

    public void Record(byte[] input, WorkerCrashedException crash)
    {
        _crashes.AddOrUpdate(
            input,
            static (_, crash) => (1, crash),
            static (_, old, crash) => (old.Count + 1, crash),
            crash);
        Interlocked.Exchange(ref _entries, _crashes.Count);
    }

    public bool TryGetExhausted(byte[] input, int limit, out WorkerCrashedException? last)
    {
        if (_crashes.TryGetValue(input, out (int Count, WorkerCrashedException Last) entry) && entry.Count >= limit)
        {
            last = entry.Last;
            return true;
        }

        last = null;
        return false;
    }

    public void Forget(byte[] input)
    {
        if (_crashes.TryRemove(input, out _))
        {
            Interlocked.Exchange(ref _entries, _crashes.Count);
        }
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public static readonly BytesComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
