namespace Parallelize.Processes;

/// <summary>One line a <see cref="ProcessExecutor"/>'s program wrote, as <see cref="ProcessExecutorOptions.OnOutputLine"/> receives it.</summary>
/// <param name="Request">The run's request.</param>
/// <param name="Text">The line, without its end of line.</param>
/// <param name="IsStandardError">Whether it came from standard error rather than standard output.</param>
public readonly record struct ProcessOutputLine(ProcessRequest Request, string Text, bool IsStandardError);
