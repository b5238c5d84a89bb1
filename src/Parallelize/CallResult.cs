namespace Parallelize;

/// <summary>A finished call: its input and its result, as the result stream delivers them.</summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <param name="Input">The input as last tried (a <see cref="RetryException"/> may have replaced the original).</param>
/// <param name="Output">The result.</param>
public readonly record struct CallResult<TIn, TOut>(TIn Input, TOut Output);
