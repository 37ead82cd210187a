namespace TaskSystem.Configuration;

/// <summary>The limits a task's fields must respect, shared by the library API, the HTTP API and the settings.</summary>
internal static class TaskRules
{
    public const int MaxAttempts = 1000;
    public const int MinPriority = -1000;
    public const int MaxPriority = 1000;
    public const int MaxNameLength = 100;
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(7);

    /// <summary>A queue or type name: 1 to 100 of letters, digits and <c>_ - . :</c>.</summary>
    public static string? CheckName(string what, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return $"{what} must not be empty.";
        }

        if (value.Length > MaxNameLength)
        {
            return $"{what} must be at most {MaxNameLength} characters (got {value.Length}).";
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.' or ':'))
            {
                return $"{what} may contain only letters, digits and _ - . : (got '{value}').";
            }
        }

        return null;
    }

    public static string? CheckQueue(string? queue) => CheckName("queue", queue);
}
