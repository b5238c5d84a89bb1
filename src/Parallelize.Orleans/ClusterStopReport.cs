namespace Parallelize.Orleans;

/// <summary>The inputs a stopped cluster pool aborted, split by what may have happened to them on the silos.</summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <param name="NeverStarted">Aborted inputs whose last attempt never reached an executor: they were queued, or taken but
/// not yet sent. Safe to run again.</param>
/// <param name="OutcomeUnknown">Aborted inputs that were running on a silo when the run stopped: the executor may have run
/// them, in part or in full (<see cref="Parallelize{TIn, TOut}.AbortedWhileRunning"/>).</param>
/// <remarks>
/// Together they are exactly <see cref="Parallelize{TIn, TOut}.Aborted"/>, the list the pool's <c>Stop</c> returned, each
/// part in call order. Made by <see cref="ClusterExecutors{TIn, TOut}.Stop"/> or
/// <see cref="ClusterExecutors{TIn, TOut}.GetStopReport"/>.
/// </remarks>
public sealed record ClusterStopReport<TIn>(IReadOnlyList<TIn> NeverStarted, IReadOnlyList<TIn> OutcomeUnknown)
{
    /// <summary>Gets the number of aborted inputs.</summary>
    public int Count => NeverStarted.Count + OutcomeUnknown.Count;

    /// <summary>Splits what <paramref name="pool"/> aborted: <see cref="Parallelize{TIn, TOut}.Aborted"/> minus <see cref="Parallelize{TIn, TOut}.AbortedWhileRunning"/>, and the latter.</summary>
    /// <remarks>Both lists are in call order and the second is part of the first, so one walk matches them; of equal inputs, either may be counted as the one that ran.</remarks>
    internal static ClusterStopReport<TIn> Of<TOut>(Parallelize<TIn, TOut> pool)
    {
        IReadOnlyList<TIn> aborted = pool.Aborted;
        IReadOnlyList<TIn> running = pool.AbortedWhileRunning;
        EqualityComparer<TIn> comparer = EqualityComparer<TIn>.Default;
        var neverStarted = new List<TIn>(aborted.Count - running.Count);
        int next = 0;
        foreach (TIn input in aborted)
        {
            if (next < running.Count && comparer.Equals(input, running[next]))
            {
                next++;
            }
            else
            {
                neverStarted.Add(input);
            }
        }

        System.Diagnostics.Debug.Assert(next == running.Count, "The inputs aborted while running are not a part of the aborted ones in call order.");
        return new ClusterStopReport<TIn>(neverStarted, [.. running]);
    }
}
