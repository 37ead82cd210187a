using System.Text;

namespace TaskSystem;

/// <summary>
/// Names the task type a handler class runs, for <see cref="TaskSystemBuilder.AddHandler{THandler}(Action{TaskTypeOptions}?)"/>.
/// Without it the name comes from the class: its name without a <c>Handler</c> suffix, in kebab case
/// (<c>SendWelcomeEmailHandler</c> runs <c>send-welcome-email</c>).
/// </summary>
/// <param name="name">The task type: 1 to 100 of letters, digits and <c>_ - . :</c>.</param>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class TaskTypeAttribute(string name) : Attribute
{
    /// <summary>The task type.</summary>
    public string Name { get; } = name;

    /// <summary>The task type <paramref name="handlerType"/> runs: its <see cref="TaskTypeAttribute"/>, else the convention.</summary>
    public static string NameOf(Type handlerType)
    {
        ArgumentNullException.ThrowIfNull(handlerType);
        if (Attribute.GetCustomAttribute(handlerType, typeof(TaskTypeAttribute), inherit: false) is TaskTypeAttribute attribute)
        {
            return attribute.Name;
        }

        var name = handlerType.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        name = tick > 0 ? name[..tick] : name;
        if (name.Length > "Handler".Length && name.EndsWith("Handler", StringComparison.Ordinal))
        {
            name = name[..^"Handler".Length];
        }

        return KebabCase(name);
    }

    /// <summary><c>SendSMSNow2</c> becomes <c>send-sms-now2</c>: a dash where a word starts.</summary>
    private static string KebabCase(string name)
    {
        var text = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0)
            {
                var previous = name[i - 1];
                var nextIsLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && nextIsLower))
                {
                    text.Append('-');
                }
            }

            text.Append(char.ToLowerInvariant(c));
        }

        return text.ToString();
    }
}
