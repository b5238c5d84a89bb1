namespace Parallelize;

/// <summary>An input that used up its attempts, with what went wrong each time.</summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <param name="Input">The input as last tried (a <see cref="RetryException"/> may have replaced the original).</param>
/// <param name="Attempts">How many times the input was tried.</param>
/// <param name="Exceptions">The exception of each attempt, oldest first.</param>
public sealed record Failure<TIn>(TIn Input, int Attempts, IReadOnlyList<Exception> Exceptions)
{
    /// <summary>Gets the call's place in call order (1 for the pool's first call): in a pipeline stage fed in order, the input's place in the stage's inputs, such as a row's number.</summary>
    public long CallNumber { get; init; }
}
