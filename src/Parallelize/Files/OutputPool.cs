using System.Collections.Concurrent;

namespace Parallelize.Files;

/// <summary>
/// The output objects of one run. Executors rent (any thread); the consumer's thread returns them after consuming.
/// Thread-safety comes from the <see cref="ConcurrentQueue{T}"/>; the run's in-flight limit bounds how many exist,
/// since an output is rented only for a range submitted and not yet consumed.
/// </summary>
/// <typeparam name="TOutput">The per-range output.</typeparam>
internal sealed class OutputPool<TOutput>(Func<TOutput> create, Action<TOutput>? reset)
    where TOutput : class
{
    private readonly ConcurrentQueue<TOutput> _free = new();

    public TOutput Rent()
    {
        if (_free.TryDequeue(out TOutput? output))
        {
            return output;
        }

        return create() ?? throw new InvalidOperationException("The output factory returned null.");
    }

    /// <summary>Resets <paramref name="output"/> and keeps it for another range; without a reset action, drops it.</summary>
    public void Return(TOutput? output)
    {
        if (output is not null && reset is not null)
        {
            reset(output);
            _free.Enqueue(output);
        }
    }
}
