namespace Parallelize.Hosting;

/// <summary>
/// Keeps the inputs a stopping host aborted, so that the next run does them: the hosted pool loads what was saved
/// when the host starts, queues it before any producer runs, and saves what its stop aborted when the host stops.
/// </summary>
/// <typeparam name="TIn">The type of the pool's inputs.</typeparam>
/// <remarks>
/// <para><b>The contract.</b> <see cref="LoadAsync"/> is called once when the host starts; each input it returns is
/// queued at once, ahead of anything a producer sends. <see cref="SaveAsync"/> is called once when the host stops, with
/// every input of this run that did not end in <c>Results</c> or <c>Failures</c> — those loaded included — and
/// <b>replaces</b> what was saved before. So across runs every input ends exactly once in <c>Results</c>,
/// <c>Failures</c> or the store; a process killed outright (no stop, no save) keeps the previous save, and its inputs
/// run again: at least once, never lost.</para>
/// <para>A queue-backed application can implement it as "nothing to load" and "release these messages back to the
/// queue". Register one with <see cref="ParallelizeBuilder{TIn, TOut}.UseAbortedInputStore{TStore}"/>, or use
/// <see cref="JsonFileAbortedInputStore{TIn}"/> through
/// <see cref="ParallelizeBuilder{TIn, TOut}.UseJsonFileAbortedInputStore"/>.</para>
/// </remarks>
public interface IAbortedInputStore<TIn>
{
    /// <summary>Loads the inputs the last run saved.</summary>
    /// <param name="cancellationToken">Cancelled if the host's start is abandoned.</param>
    /// <returns>The inputs to do first, in order; empty if there are none.</returns>
    ValueTask<IReadOnlyList<TIn>> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Saves the inputs this run aborted, replacing what was saved before; called also when there are none, so a stale save is cleared.</summary>
    /// <param name="inputs">The aborted inputs: those loaded or sent but never queued, then those the pool's stop aborted, in call order.</param>
    /// <param name="cancellationToken">
    /// Cancelled when <c>HostOptions.ShutdownTimeout</c> has run out. The pool leaves
    /// <see cref="ParallelizeHostingOptions.ShutdownMargin"/> for this call; an implementation that gives up on
    /// cancellation loses the inputs it has not saved.
    /// </param>
    /// <returns>A task that completes when the inputs are saved.</returns>
    ValueTask SaveAsync(IReadOnlyList<TIn> inputs, CancellationToken cancellationToken);
}
