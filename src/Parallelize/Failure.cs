namespace Parallelize;

/// <summary>An input that used up its attempts, with what went wrong each time.</summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <param name="Input">The input as last tried (a <see cref="RetryException"/> may have replaced the original).</param>
/// <param name="Attempts">How many times the input was tried.</param>
/// <param name="Exceptions">The exception of each attempt, oldest first.</param>
public sealed record Failure<TIn>(TIn Input, int Attempts, IReadOnlyList<Exception> Exceptions);
