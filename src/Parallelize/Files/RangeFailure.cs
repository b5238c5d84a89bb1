using System.Diagnostics;

namespace Parallelize.Files;

/// <summary>A range that could not be read (an I/O error, or a file shorter than when the source measured it): none of its rows were consumed.</summary>
[DebuggerDisplay("{Range}: {Exception.Message}")]
public sealed class RangeFailure
{
    internal RangeFailure(FileRange range, Exception exception)
    {
        Range = range;
        Exception = exception;
    }

    /// <summary>Gets the range.</summary>
    public FileRange Range { get; }

    /// <summary>Gets why it failed.</summary>
    public Exception Exception { get; }
}
