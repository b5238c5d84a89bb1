using Microsoft.Extensions.Options;

namespace Parallelize.Hosting;

/// <summary>
/// Checks <see cref="ParallelizeHostingOptions"/> with the rules of <see cref="ParallelizeOptions"/> itself: each value
/// is tried on a fresh <see cref="ParallelizeOptions"/>, so the ranges and messages are the core's and live in one
/// place, and every bad value is reported at once rather than the first only.
/// </summary>
internal sealed class ParallelizeHostingOptionsValidator : IValidateOptions<ParallelizeHostingOptions>
{
    public ValidateOptionsResult Validate(string? name, ParallelizeHostingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Check(Func<ParallelizeOptions> make)
        {
            try
            {
                _ = make();
            }
            catch (ArgumentException ex)
            {
                failures.Add(ex.Message);
            }
        }

        Check(() => new ParallelizeOptions { MaxAttempts = options.MaxAttempts });
        Check(() => new ParallelizeOptions { MaxRestarts = options.MaxRestarts });
        Check(() => new ParallelizeOptions { RestartWindow = options.RestartWindow });
        Check(() => new ParallelizeOptions { RestartBackoff = options.RestartBackoff });
        Check(() => new ParallelizeOptions { MaxRestartBackoff = options.MaxRestartBackoff });
        Check(() => new ParallelizeOptions { BoundedCapacity = options.BoundedCapacity });
        Check(() => new ParallelizeOptions { ProgressInterval = options.ProgressInterval });
        Check(() => new ParallelizeOptions { RetryDelay = options.RetryDelay });
        Check(() => new ParallelizeOptions { MaxRetryDelay = options.MaxRetryDelay });
        Check(() => new ParallelizeOptions { CallTimeout = options.CallTimeout });
        if (options.ShutdownFinishTimeout is { } finish && finish < TimeSpan.Zero)
        {
            failures.Add($"ShutdownFinishTimeout must be zero or more, or null for as long as the host allows (it is {finish}).");
        }

        if (options.ShutdownMargin < TimeSpan.Zero)
        {
            failures.Add($"ShutdownMargin must be zero or more (it is {options.ShutdownMargin}).");
        }

        return failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(failure => $"Parallelize options '{name}': {failure}"));
    }
}
