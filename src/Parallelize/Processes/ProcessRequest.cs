using Parallelize.Processes;

namespace Parallelize.Processes;

/// <summary>
/// One run of a <see cref="ProcessExecutor"/>: the arguments appended to the executor's own, and optionally the text
/// to write to the process's standard input and its working directory.
/// </summary>
/// <remarks>
/// Arguments are passed to the program one by one, as a list (<see cref="System.Diagnostics.ProcessStartInfo.ArgumentList"/>),
/// never through a shell, so spaces, quotes and wildcards in them reach the program unchanged. Two requests are equal
/// when their arguments, standard input and working directory are equal.
/// </remarks>
public sealed record ProcessRequest
{
    private readonly string[] _arguments;

    /// <summary>Initializes a request with its arguments.</summary>
    /// <param name="arguments">The arguments, appended after the executor's leading arguments. May be empty.</param>
    /// <exception cref="ArgumentNullException"><paramref name="arguments"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An argument is <see langword="null"/>.</exception>
    public ProcessRequest(params IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        _arguments = [.. arguments];
        if (Array.IndexOf(_arguments, null) >= 0)
        {
            throw new ArgumentException("An argument is null.", nameof(arguments));
        }
    }

    /// <summary>Gets the arguments, appended after the executor's leading arguments.</summary>
    public IReadOnlyList<string> Arguments => _arguments;

    /// <summary>Gets the text written to the process's standard input (UTF-8), which is then closed.</summary>
    /// <value>The default is <see langword="null"/>: the standard input is empty (closed at once), so a program that reads it sees its end instead of waiting.</value>
    public string? StandardInput { get; init; }

    /// <summary>Gets the working directory of this run, overriding <see cref="ProcessExecutorOptions.WorkingDirectory"/>.</summary>
    /// <value>The default is <see langword="null"/>: the executor's working directory.</value>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// Gets a file that receives the program's standard output (created, or emptied first) instead of capturing it;
    /// the result's <see cref="ProcessResult.StandardOutput"/> stays empty.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the output is captured, or streamed to <see cref="ProcessExecutorOptions.OnOutputLine"/>.</value>
    public string? StandardOutputFile { get; init; }

    /// <inheritdoc/>
    public bool Equals(ProcessRequest? other) =>
        other is not null
        && _arguments.AsSpan().SequenceEqual(other._arguments)
        && StandardInput == other.StandardInput
        && WorkingDirectory == other.WorkingDirectory
        && StandardOutputFile == other.StandardOutputFile;

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (string argument in _arguments)
        {
            hash.Add(argument);
        }

        hash.Add(StandardInput);
        hash.Add(WorkingDirectory);
        hash.Add(StandardOutputFile);
        return hash.ToHashCode();
    }

    /// <summary>Returns the arguments as a shell would show them, each quoted where needed (for reading only: nothing is run through a shell).</summary>
    /// <returns>The quoted arguments, separated by spaces.</returns>
    public override string ToString() => CommandLine.Format(null, _arguments);
}
