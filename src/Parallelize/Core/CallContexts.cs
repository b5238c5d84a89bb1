using System.Collections.Concurrent;

namespace Parallelize.Core;

/// <summary>
/// The contexts calls run in (see <see cref="QueuedCall{TIn}.HasContext"/>), by sequence: kept beside the calls rather
/// than in them, so that a queued call stays a plain value and calls from an untouched context pay nothing for the
/// feature. A context is added when its call is accepted and forgotten when the call ends, in whatever place.
/// </summary>
/// <remarks>Entries are added under the queue's lock and read and removed by the call's owner; the dictionary is concurrent because owners of different calls use it at once.</remarks>
internal sealed class CallContexts
{
    private readonly ConcurrentDictionary<long, object> _contexts = new();

    /// <summary>Gets the number of calls with a context (tests).</summary>
    public int Count => _contexts.Count;

    /// <summary>Keeps the context of a call just accepted.</summary>
    public void Add(long sequence, object context) => _contexts[sequence] = context;

    /// <summary>Gets the context of a call that has one, or <see langword="null"/>.</summary>
    public object? Find(long sequence) => _contexts.TryGetValue(sequence, out object? context) ? context : null;

    /// <summary>Lets go of the context of a call that ended.</summary>
    public void Forget(long sequence) => _contexts.TryRemove(sequence, out _);
}
